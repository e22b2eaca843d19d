#!/usr/bin/env python3
"""Runs Stratum's benchmarks and compares them with PyTorch (driven by scripts/bench.sh).

Training step: stratum_bench_train_step against scripts/bench_train_step.py on the same
LibTorch (build/ with Debian's python3-torch 1.13, build-cuda/ with the venv's torch 2.11),
same model, batch, optimizer (AdamW), fp32, thread count; Stratum and Python runs alternate,
the median of the repeats is compared. Data pipeline: stratum_bench_pipeline's records/s
against the trainer's consumption (the training-step rate of the quickstart's model and
batch). Image pipeline: JPEG photos to augmented 224 x 224 batches against torchvision's
ImageFolder + DataLoader (image_pipeline below). Micro-benchmarks: reservoir offers, quantized
linear layers, gradient checkpointing.
Writes bench-results/bench-<time>.json and ends with one `speedup_vs_python NAME RATIO` line
per comparison and one `loader_headroom NAME RATIO` line per pipeline.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name, model flags, steps (quick, full): the same flags go to both implementations. The
# quickstart's model and batch, a small GPT, the same GPT at a batch so small that per-step
# overhead dominates, and a gpt-125m shape cut to 2 layers (its 50257-word embedding kept).
MODELS = [
    ("vit-tiny", ["--model", "vit-tiny", "--batch", "128", "--warmup", "2"], (5, 30)),
    ("gpt-tiny", ["--model", "gpt-tiny", "--batch", "16", "--seq", "128", "--warmup", "2"], (10, 60)),
    ("gpt-tiny-b2s32", ["--model", "gpt-tiny", "--batch", "2", "--seq", "32", "--warmup", "10"], (150, 600)),
    ("gpt-125m-2layers", ["--model", "gpt-125m", "--layers", "2", "--batch", "2", "--seq", "64", "--warmup", "2"], (2, 10)),
]
# What --quick compares (name-threads-flavour); a full run compares every model at 1 and 2 threads.
QUICK = {"vit-tiny-threads2-debian", "gpt-tiny-threads2-debian", "gpt-tiny-b2s32-threads1-debian",
         "gpt-tiny-b2s32-threads2-debian", "gpt-125m-2layers-threads2-debian", "vit-tiny-threads2-torch2.11",
         "gpt-tiny-threads2-torch2.11", "gpt-tiny-b2s32-threads1-torch2.11", "gpt-tiny-b2s32-threads2-torch2.11"}


def run(command, env=None):
    """Runs `command` from the repository root and returns what it printed on stdout."""
    out = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"bench: error: {' '.join(command)} failed ({out.returncode}):\n{out.stderr[-2000:]}")
    return out.stdout


def run_json(command, env=None):
    """The last JSON line `command` printed."""
    return json.loads([line for line in run(command, env).splitlines() if line.startswith("{")][-1])


def training_step(flavour, stratum, python, model, flags, steps, threads, repeats, passive_python):
    common = flags + ["--steps", str(steps), "--precision", "fp32", "--threads", str(threads),
                      "--device", "cpu"]
    script = [python, "scripts/bench_train_step.py", "--mode", "eager"] + common
    # Stratum sets OMP_WAIT_POLICY=PASSIVE itself where OpenBLAS is loaded (core/thread_environment.h);
    # Python runs as a user would start it, and (full runs) once more with the same setting.
    plain_env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    ours, theirs, theirs_passive = [], [], []
    for _ in range(repeats):  # alternating, so drift in the machine's speed hits both alike
        ours.append(run_json([stratum] + common, plain_env)["items_per_second"])
        theirs.append(run_json(script, plain_env)["items_per_second"])
        if passive_python:
            theirs_passive.append(run_json(script, dict(plain_env, OMP_WAIT_POLICY="PASSIVE"))["items_per_second"])
    result = {"name": f"{model}-threads{threads}-{flavour}", "model": model, "threads": threads, "flavour": flavour,
              "steps": steps, "stratum_items_per_second": statistics.median(ours),
              "python_items_per_second": statistics.median(theirs), "stratum_runs": ours, "python_runs": theirs}
    result["speedup"] = result["stratum_items_per_second"] / result["python_items_per_second"]
    line = (f"  {result['name']:36} stratum {result['stratum_items_per_second']:9.1f}/s  "
            f"python {result['python_items_per_second']:9.1f}/s  x{result['speedup']:.3f}")
    if passive_python:
        result["python_passive_items_per_second"] = statistics.median(theirs_passive)
        result["speedup_vs_passive_python"] = result["stratum_items_per_second"] / result["python_passive_items_per_second"]
        line += (f"  (python with OMP_WAIT_POLICY=PASSIVE {result['python_passive_items_per_second']:.1f}/s, "
                 f"x{result['speedup_vs_passive_python']:.3f})")
    print(line, flush=True)
    return result


def google_benchmark(binary, extra=(), env=None):
    path = os.path.join(ROOT, "bench-results", os.path.basename(binary) + ".json")
    run([binary, f"--benchmark_out={path}", "--benchmark_out_format=json", *extra], env=env)
    with open(path) as f:
        out = json.load(f)
    return [{k: v for k, v in b.items() if k not in ("run_type", "repetitions", "repetition_index", "threads")}
            for b in out["benchmarks"]]


def image_pipeline(quick):
    """JPEG photos to augmented 224 x 224 batches: Stratum (stratum_bench_pipeline ImageFolderJpeg)
    against torchvision's ImageFolder + DataLoader, same files, transforms and worker count.
    Stratum decodes each image once (its first epoch includes reading, decoding and resizing);
    torchvision decodes in every epoch. The speedup compares Stratum's first epoch with
    torchvision's later (warm, workers already started) epoch: the comparison least favourable
    to Stratum. The headroom is Stratum's later-epoch rate over vit-s16's CPU training step rate."""
    print("== image pipeline: JPEG folder to augmented 224x224 batches, Stratum vs torchvision ImageFolder + DataLoader",
          flush=True)
    images = os.path.join(ROOT, "bench-results", "jpeg-folder")
    if not os.path.isdir(images):
        run([".venv/bin/python", "scripts/bench_image_pipeline.py", "make", images, "--per-class", "30" if quick else "100"])
    ours = google_benchmark("build/bin/stratum_bench_pipeline", ["--benchmark_filter=ImageFolderJpeg"],
                            dict(os.environ, STRATUM_BENCH_IMAGES=images))
    step = run_json(["build/bin/stratum_bench_train_step", "--model", "vit-s16", "--batch", "8", "--steps", "2",
                     "--warmup", "1", "--threads", str(os.cpu_count()), "--device", "cpu", "--precision", "fp32"])
    vit = step["items_per_second"]
    out = []
    for b in ours:
        workers = int(b["name"].split("workers:")[1].split("/")[0])
        theirs = run_json([".venv/bin/python", "scripts/bench_image_pipeline.py", "run", images, "--workers", str(workers)])
        entry = {"workers": workers, "stratum_first_epoch": b["first_epoch_images_per_second"],
                 "stratum_later_epoch": b["later_epoch_images_per_second"], "stratum_decode": b["decode_images_per_second"],
                 "torchvision_first_epoch": theirs["first_epoch_images_per_second"],
                 "torchvision_later_epoch": theirs["later_epoch_images_per_second"], "vit_s16_train_images_per_second": vit}
        entry["speedup"] = entry["stratum_first_epoch"] / entry["torchvision_later_epoch"]
        entry["speedup_later_epochs"] = entry["stratum_later_epoch"] / entry["torchvision_later_epoch"]
        entry["headroom_over_vit_s16"] = entry["stratum_later_epoch"] / vit
        out.append(entry)
        print(f"  workers {workers}: stratum first epoch {entry['stratum_first_epoch']:7.1f}/s (decode "
              f"{entry['stratum_decode']:.1f}/s), later {entry['stratum_later_epoch']:7.1f}/s; torchvision first "
              f"{entry['torchvision_first_epoch']:7.1f}/s, later {entry['torchvision_later_epoch']:7.1f}/s; "
              f"x{entry['speedup']:.2f} (later epochs x{entry['speedup_later_epochs']:.2f}); vit-s16 trains "
              f"{vit:.2f} images/s: headroom x{entry['headroom_over_vit_s16']:.0f}", flush=True)
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    quick = args.quick
    repeats = 5
    flavours = [("debian", "build/bin/stratum_bench_train_step", "/usr/bin/python3")]
    if os.path.exists(os.path.join(ROOT, "build-cuda/bin/stratum_bench_train_step")):
        flavours.append(("torch2.11", "build-cuda/bin/stratum_bench_train_step", ".venv/bin/python"))
    results = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "quick": quick,
               "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count()},
               "training_step": [], "pipeline": [], "micro": {}}

    os.makedirs(os.path.join(ROOT, "bench-results"), exist_ok=True)
    started = time.time()
    print("== training step, Stratum vs PyTorch eager (fp32, CPU; median of %d alternating runs)" % repeats, flush=True)
    for flavour, stratum, python in flavours:
        for model, flags, (quick_steps, full_steps) in MODELS:
            for threads in (1, 2):
                if quick and f"{model}-threads{threads}-{flavour}" not in QUICK:
                    continue
                results["training_step"].append(training_step(
                    flavour, stratum, python, model, flags, quick_steps if quick else full_steps, threads, repeats,
                    passive_python=not quick and flavour == "debian"))
    print(f"   ({time.time() - started:.0f} s)", flush=True)

    print("== data pipeline: raw files to collated batches (records/s) against the trainer's consumption", flush=True)
    tokenizer = os.path.join(ROOT, "bench-results", "fortunes-bpe.json")
    if not os.path.exists(tokenizer):
        run(["build/bin/stratum", "data", "tokenizer", "--config", "configs/gpt-fortunes.yaml", "--out", tokenizer])
    env = dict(os.environ, STRATUM_BENCH_TOKENIZER=tokenizer)
    pipeline = google_benchmark("build/bin/stratum_bench_pipeline",
                                ["--benchmark_filter=FashionMnist/passthrough:0|Fortunes"] if quick else [], env)
    # Consumption: the quickstart's model and batch (vit-tiny, 128, 2 threads), and gpt-tiny's.
    consumption = {r["model"]: r["stratum_items_per_second"] for r in results["training_step"]
                   if r["threads"] == 2 and r["flavour"] == "debian" and r["model"] in ("vit-tiny", "gpt-tiny")}
    for b in pipeline:
        model = "vit-tiny" if "FashionMnist" in b["name"] else "gpt-tiny"
        entry = {"name": b["name"], "label": b.get("label", ""), "records_per_second": b["records_per_second"],
                 "trainer_items_per_second": consumption[model]}
        entry["headroom"] = entry["records_per_second"] / entry["trainer_items_per_second"]
        results["pipeline"].append(entry)
        print(f"  {b['name']:40} {b['records_per_second']:10.0f} records/s  trainer ({model}) "
              f"{consumption[model]:7.1f}/s  headroom x{entry['headroom']:.1f}", flush=True)

    print(f"   ({time.time() - started:.0f} s)", flush=True)
    if os.path.exists(os.path.join(ROOT, ".venv/bin/python")):
        results["image_pipeline"] = image_pipeline(quick)
        print(f"   ({time.time() - started:.0f} s)", flush=True)
    print("== micro-benchmarks", flush=True)
    results["micro"]["reservoir"] = google_benchmark("build/bin/stratum_bench_reservoir", ["--benchmark_min_time=0.2"])
    results["micro"]["adapters"] = google_benchmark(
        "build/bin/stratum_bench_adapters", ["--benchmark_filter=Quantized", "--benchmark_min_time=0.2"] if quick else [])
    for group in results["micro"].values():
        for b in group:
            counters = {k: v for k, v in b.items() if k in ("items_per_second", "bytes_per_weight", "activation_mb", "bytes_per_item")}
            print(f"  {b['name']:44} {b['real_time']:10.3f} {b['time_unit']}  {b.get('label', '')} "
                  + " ".join(f"{k}={v:.4g}" for k, v in counters.items()), flush=True)

    print(f"   ({time.time() - started:.0f} s)", flush=True)
    path = os.path.join(ROOT, "bench-results", "bench-%s%s.json" % (
        datetime.datetime.now().strftime("%Y%m%d-%H%M%S"), "-quick" if quick else ""))
    with open(path, "w") as f:
        json.dump(results, f, indent=1)
    print("results:", os.path.relpath(path, ROOT))
    for r in results["training_step"]:
        print(f"speedup_vs_python {r['name']} {r['speedup']:.3f}")
    for p in results["pipeline"]:
        print(f"loader_headroom {p['name']} {p['headroom']:.2f}")
    for p in results.get("image_pipeline", []):
        print(f"speedup_vs_python image_pipeline-workers{p['workers']} {p['speedup']:.3f}")
        print(f"speedup_vs_python image_pipeline-later-epochs-workers{p['workers']} {p['speedup_later_epochs']:.3f}")
        print(f"loader_headroom image_pipeline-workers{p['workers']}-vit-s16 {p['headroom_over_vit_s16']:.1f}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Drift recovery of a continuous run, with reservoir decay and rebalancing on and off.

Runs `stratum train` on a config in continuous mode once per setting, reads each run's
test-then-train ("prequential") windows from metrics.jsonl and prints, for every label-shift and
covariate-shift point, how many records it took until windowed accuracy came back within 2 points
of its level before the shift; plus the ingestion rate and the share of steps that waited.

  scripts/continuous_drift_table.py [--config configs/continuous.yaml] [--binary build/bin/stratum]
"""
import argparse
import json
import pathlib
import subprocess
import sys
import tempfile
import time

SETTINGS = [
    ("decay + rebalance", ["--set", "data.reservoir.decay=0.0005", "--set", "data.drift.on_drift=rebalance"]),
    ("decay only", ["--set", "data.reservoir.decay=0.0005", "--set", "data.drift.on_drift=warn"]),
    ("rebalance only", ["--set", "data.reservoir.decay=0", "--set", "data.drift.on_drift=rebalance"]),
    ("neither", ["--set", "data.reservoir.decay=0", "--set", "data.drift.on_drift=warn"]),
]


def records(run_dir, kind):
    out = []
    for line in (run_dir / "metrics.jsonl").read_text().splitlines():
        r = json.loads(line)
        if r.get("kind") == kind:
            out.append(r)
    return out


def recovery(windows, shift, tolerance=0.02, before=3):
    """Records after `shift` until a window's accuracy is within `tolerance` of the mean of the
    `before` windows that ended before it (None: never recovered)."""
    prior = [w["accuracy"] for w in windows if w["records"] <= shift][-before:]
    if not prior:
        return None, None
    level = sum(prior) / len(prior)
    after = [w for w in windows if w["records"] > shift]
    dip = min((w["accuracy"] for w in after[:5]), default=level)
    for w in after:
        if w["accuracy"] >= level - tolerance:
            return int(w["records"] - shift), (level, dip)
    return None, (level, dip)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default="configs/continuous.yaml")
    p.add_argument("--binary", default="build/bin/stratum")
    p.add_argument("--set", action="append", default=[], help="extra KEY=VALUE overrides for every run")
    args = p.parse_args()
    import yaml  # noqa: the shift points come from the config
    config = yaml.safe_load(open(args.config))
    synthetic = config["data"]["synthetic"]
    shifts = [("label", s) for s in synthetic.get("label_shift_at", [])] + \
             [("covariate", s) for s in synthetic.get("covariate_shift_at", [])]
    rows = []
    with tempfile.TemporaryDirectory() as out:
        for name, overrides in SETTINGS:
            extra = sum((["--set", s] for s in args.set), [])
            cmd = [args.binary, "train", "--config", args.config, "--set", f"run.output_dir={out}/{len(rows)}"] + overrides + extra
            start = time.time()
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0:
                sys.exit(f"{name}: exit {done.returncode}\n{done.stderr[-2000:]}")
            run_dir = next(pathlib.Path(f"{out}/{len(rows)}").iterdir())
            windows = records(run_dir, "prequential")
            train = records(run_dir, "train")
            steps = train[-1]["step"]
            waits = train[-1].get("stream/trainer_waits", 0)
            rate = sum(t.get("stream/records_per_second", 0) for t in train[1:]) / max(1, len(train) - 1)
            recoveries = [(kind, at) + recovery(windows, at) for kind, at in shifts]
            alerts = sum(1 for e in records(run_dir, "event") if e.get("event") == "drift")
            rows.append((name, recoveries, windows, steps, waits, rate, time.time() - start, alerts))
    print(f"{'setting':<20}" + "".join(f"{kind + ' @' + str(at):>22}" for kind, at in shifts) +
          f"{'final acc':>11}{'alerts':>8}{'steps':>8}{'waited':>8}{'records/s':>11}{'wall s':>8}")
    for name, recoveries, windows, steps, waits, rate, wall, alerts in rows:
        cells = ""
        for kind, at, n, levels in recoveries:
            text = "never" if n is None else f"{n}"
            if levels:
                text += f" ({levels[0]:.3f}>{levels[1]:.3f})"
            cells += f"{text:>22}"
        final = windows[-1]["accuracy"] if windows else float("nan")
        print(f"{name:<20}{cells}{final:>11.4f}{alerts:>8}{steps:>8}{waits / max(1, steps):>8.1%}{rate:>11.0f}{wall:>8.1f}")
    print("\ncells: records after the shift until windowed test-then-train accuracy is within 2 points of its "
          "level before it (level > lowest of the next 5 windows)")


if __name__ == "__main__":
    main()

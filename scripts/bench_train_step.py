#!/usr/bin/env python3
"""PyTorch side of the training-step benchmarks: the same step as stratum_bench_train_step.

  python3 scripts/bench_train_step.py --model vit-s16|vit-tiny|gpt-125m|gpt-tiny [--layers L]
      [--batch B] [--seq T] [--steps N] [--warmup W] [--mode eager|compile]
      [--precision bf16|fp32] [--threads N] [--device cuda|cpu]
  python3 scripts/bench_train_step.py --table < results.jsonl   (the device check's table)

The models are written out in plain PyTorch (the GPU image has no transformers or timm):
pre-LayerNorm blocks, fused qkv, GELU MLP, tied GPT embeddings, with the same shapes and
parameter counts as Stratum's (gpt-125m 124,439,808, vit-s16 22,050,664, vit-tiny 139,018 on
28x28 Fashion-MNIST images with mean pooling, gpt-tiny on bytes). AdamW, random data drawn once
on the device. Runs on PyTorch 1.13 too (Debian's python3-torch, the LibTorch of Stratum's
Debian build): there attention is written out, as Stratum's is on that LibTorch. Prints one
JSON line like the C++ benchmark.
"""
import argparse
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def attention(q, k, v, causal):
    if hasattr(F, "scaled_dot_product_attention"):  # PyTorch 2
        return F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    scores = q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5
    if causal:
        t = q.shape[-2]
        scores = scores.masked_fill(~torch.ones(t, t, dtype=torch.bool, device=q.device).tril(), float("-inf"))
    return scores.softmax(-1) @ v


def gelu(x, tanh):
    if tanh:
        return F.gelu(x, approximate="tanh")
    return F.gelu(x)


class Block(nn.Module):
    def __init__(self, width, heads, causal, eps, tanh_gelu, mlp=None):
        super().__init__()
        self.heads, self.causal, self.tanh = heads, causal, tanh_gelu
        mlp = mlp or 4 * width
        self.norm1 = nn.LayerNorm(width, eps=eps)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.norm2 = nn.LayerNorm(width, eps=eps)
        self.fc1 = nn.Linear(width, mlp)
        self.fc2 = nn.Linear(mlp, width)

    def forward(self, x):
        b, t, w = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(b, t, 3, self.heads, w // self.heads).permute(2, 0, 3, 1, 4)
        a = attention(q, k, v, self.causal)
        x = x + self.proj(a.transpose(1, 2).reshape(b, t, w))
        return x + self.fc2(gelu(self.fc1(self.norm2(x)), self.tanh))


class GPT(nn.Module):
    def __init__(self, layers=12, width=768, heads=12, vocab=50257, context=1024, mlp=None):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, width), nn.Embedding(context, width)
        self.blocks = nn.ModuleList(Block(width, heads, True, 1e-5, True, mlp) for _ in range(layers))
        self.norm = nn.LayerNorm(width, eps=1e-5)

    def forward(self, tokens):
        x = self.wte(tokens) + self.wpe(torch.arange(tokens.shape[1], device=tokens.device))
        for block in self.blocks:
            x = block(x)
        return self.norm(x) @ self.wte.weight.t()


class ViT(nn.Module):
    def __init__(self, layers=12, width=384, heads=6, image=224, patch=16, classes=1000, channels=3, mlp=None,
                 mean_pool=False):
        super().__init__()
        self.mean_pool = mean_pool
        self.patch = nn.Conv2d(channels, width, patch, stride=patch)
        self.cls = nn.Parameter(torch.zeros(1, 1, width))
        self.pos = nn.Parameter(torch.zeros(1, (image // patch) ** 2 + 1, width))
        self.blocks = nn.ModuleList(Block(width, heads, False, 1e-6, False, mlp) for _ in range(layers))
        self.norm = nn.LayerNorm(width, eps=1e-6)
        self.head = nn.Linear(width, classes)

    def forward(self, images):
        x = self.patch(images).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], 1) + self.pos
        for block in self.blocks:
            x = block(x)
        if self.mean_pool:  # timm's global_pool="avg" with fc_norm
            return self.head(self.norm(x[:, 1:].mean(1)))
        return self.head(self.norm(x)[:, 0])


def build(name, layers):
    """The model, its input shape per example, and (layers, width) for the FLOP estimate."""
    if name == "gpt-125m":
        layers = layers or 12
        return GPT(layers=layers), (1024, 50257), (layers, 768)
    if name == "gpt-tiny":
        layers = layers or 2
        return GPT(layers=layers, width=64, heads=4, vocab=257, context=256, mlp=256), (256, 257), (layers, 64)
    if name == "vit-s16":
        layers = layers or 12
        return ViT(layers=layers), (3, 224, 224, 1000), (layers, 384)
    layers = layers or 4
    model = ViT(layers=layers, width=64, heads=4, image=28, patch=4, classes=10, channels=1, mlp=128, mean_pool=True)
    return model, (1, 28, 28, 10), (layers, 64)


def bf16_peak(name):
    if "H100" in name and "PCIe" in name:
        return 756e12
    return 989e12 if ("H100" in name or "H200" in name) else 0.0


def print_table(lines):
    """One row per JSON result line (from this script or stratum_bench_train_step)."""
    rows = [json.loads(line) for line in lines if line.startswith("{")]
    print(f"{'model':10} {'impl':17} {'batch':>5} {'items/s':>10} {'tokens/s':>11} {'MFU':>6} {'peak GiB':>9} "
          f"{'final loss':>10}")
    for r in rows:
        print(f"{r['model']:10} {r['impl']:17} {r['batch']:5d} {r['items_per_second']:10.1f} "
              f"{r['tokens_per_second']:11.0f} {100 * r['mfu']:5.1f}% {r['peak_memory_bytes'] / 2**30:9.2f} "
              f"{r['final_loss']:10.4f}")
    print("device:", rows[0]["device"] if rows else "?")


def main():
    if "--table" in sys.argv:
        print_table(sys.stdin.read().splitlines())
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="gpt-125m", choices=["gpt-125m", "gpt-tiny", "vit-s16", "vit-tiny"])
    parser.add_argument("--layers", type=int, default=0)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq", type=int, default=0)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--mode", default="eager", choices=["eager", "compile"])
    parser.add_argument("--precision", default="bf16", choices=["bf16", "fp32"])
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--device", default="cuda")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device if args.device == "cpu" or torch.cuda.is_available() else "cpu")
    torch.manual_seed(0)
    gpt = args.model.startswith("gpt")
    model, shape, (layers, width) = build(args.model, args.layers)
    model = model.to(device)
    parameters = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.1)
    if gpt:
        per_example = args.seq or shape[0]
        inputs = torch.randint(0, shape[1], (args.batch, per_example), device=device)
    else:
        inputs = torch.randn(args.batch, *shape[:3], device=device)
        targets = torch.randint(0, shape[3], (args.batch,), device=device)
        per_example = (shape[1] // (16 if args.model == "vit-s16" else 4)) ** 2 + 1

    def forward():
        if args.precision == "bf16":
            with torch.autocast(device.type, dtype=torch.bfloat16):
                return model(inputs)
        return model(inputs)

    def step():
        optimizer.zero_grad(set_to_none=True)
        logits = forward()
        if gpt:
            loss = F.cross_entropy(logits[:, :-1].float().reshape(-1, logits.shape[-1]), inputs[:, 1:].reshape(-1))
        else:
            loss = F.cross_entropy(logits.float(), targets)
        loss.backward()
        optimizer.step()
        return loss

    run = torch.compile(step) if args.mode == "compile" else step
    for _ in range(args.warmup):
        run()
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(args.steps):
        loss = run()
    final_loss = loss.item()
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    items = args.batch * args.steps / seconds
    name = torch.cuda.get_device_name() if device.type == "cuda" else "cpu"
    flops_per_token = 6 * parameters + 12 * layers * width * per_example
    peak = bf16_peak(name)
    print(json.dumps({
        "impl": f"pytorch-{args.mode}", "model": args.model, "device": name, "precision": args.precision,
        "threads": torch.get_num_threads(), "torch": torch.__version__,
        "batch": args.batch, "tokens_per_example": per_example, "steps": args.steps, "parameters": parameters,
        "items_per_second": items, "tokens_per_second": items * per_example,
        "mfu": flops_per_token * items * per_example / peak if peak else 0.0,
        "peak_memory_bytes": torch.cuda.max_memory_allocated() if device.type == "cuda" else 0,
        "final_loss": final_loss,
    }))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""PyTorch side of the device check: the same training step as stratum_bench_train_step.

  python3 scripts/bench_train_step.py --model vit-s16|gpt-125m [--batch B] [--seq T]
      [--steps N] [--warmup W] [--mode eager|compile] [--device cuda|cpu]
  python3 scripts/bench_train_step.py --table < results.jsonl   (the device check's table)

GPT-2 small and ViT-S/16 are written out in plain PyTorch (the GPU image has no
transformers or timm): pre-LayerNorm blocks, fused qkv, GELU MLP, tied GPT embeddings, the
same parameter counts as Stratum's (124,439,808 and 22,050,664). AdamW, bf16 autocast,
random data drawn once on the device. Prints one JSON line like the C++ benchmark.
"""
import argparse
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, width, heads, causal, eps, tanh_gelu):
        super().__init__()
        self.heads, self.causal, self.tanh = heads, causal, tanh_gelu
        self.norm1 = nn.LayerNorm(width, eps=eps)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.norm2 = nn.LayerNorm(width, eps=eps)
        self.fc1 = nn.Linear(width, 4 * width)
        self.fc2 = nn.Linear(4 * width, width)

    def forward(self, x):
        b, t, w = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(b, t, 3, self.heads, w // self.heads).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=self.causal)
        x = x + self.proj(a.transpose(1, 2).reshape(b, t, w))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x)), approximate="tanh" if self.tanh else "none"))


class GPT(nn.Module):
    def __init__(self, layers=12, width=768, heads=12, vocab=50257, context=1024):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, width), nn.Embedding(context, width)
        self.blocks = nn.ModuleList(Block(width, heads, True, 1e-5, True) for _ in range(layers))
        self.norm = nn.LayerNorm(width, eps=1e-5)

    def forward(self, tokens):
        x = self.wte(tokens) + self.wpe(torch.arange(tokens.shape[1], device=tokens.device))
        for block in self.blocks:
            x = block(x)
        return self.norm(x) @ self.wte.weight.t()


class ViT(nn.Module):
    def __init__(self, layers=12, width=384, heads=6, image=224, patch=16, classes=1000):
        super().__init__()
        self.patch = nn.Conv2d(3, width, patch, stride=patch)
        self.cls = nn.Parameter(torch.zeros(1, 1, width))
        self.pos = nn.Parameter(torch.zeros(1, (image // patch) ** 2 + 1, width))
        self.blocks = nn.ModuleList(Block(width, heads, False, 1e-6, False) for _ in range(layers))
        self.norm = nn.LayerNorm(width, eps=1e-6)
        self.head = nn.Linear(width, classes)

    def forward(self, images):
        x = self.patch(images).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], 1) + self.pos
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x)[:, 0])


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
    parser.add_argument("--model", default="gpt-125m", choices=["gpt-125m", "vit-s16"])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--mode", default="eager", choices=["eager", "compile"])
    parser.add_argument("--device", default="cuda")
    args = parser.parse_args()
    device = torch.device(args.device if args.device == "cpu" or torch.cuda.is_available() else "cpu")
    torch.manual_seed(0)
    gpt = args.model.startswith("gpt")
    model = (GPT() if gpt else ViT()).to(device)
    parameters = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.1)
    if gpt:
        inputs = torch.randint(0, 50257, (args.batch, args.seq), device=device)
        per_example, layers, width = args.seq, 12, 768
    else:
        inputs = torch.randn(args.batch, 3, 224, 224, device=device)
        targets = torch.randint(0, 1000, (args.batch,), device=device)
        per_example, layers, width = 197, 12, 384

    def step():
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16):
            logits = model(inputs)
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
        "impl": f"pytorch-{args.mode}", "model": args.model, "device": name, "precision": "bf16",
        "batch": args.batch, "tokens_per_example": per_example, "steps": args.steps, "parameters": parameters,
        "items_per_second": items, "tokens_per_second": items * per_example,
        "mfu": flops_per_token * items * per_example / peak if peak else 0.0,
        "peak_memory_bytes": torch.cuda.max_memory_allocated() if device.type == "cuda" else 0,
        "final_loss": final_loss,
    }))


if __name__ == "__main__":
    main()

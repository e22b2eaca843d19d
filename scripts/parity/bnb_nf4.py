#!/usr/bin/env python3
"""Reference side of Stratum's NF4 parity test: bitsandbytes' quantize_4bit / dequantize_4bit.

  bnb_nf4.py STRATUM.safetensors

The file holds random weights ("weight.K") and, for each, Stratum's packed codes, block
absmax and dequantized values without double quantization ("codes.K", "absmax.K",
"dequantized.K") and with it ("dq_codes.K", "dq_absmax_codes.K", "dq_absmax_scales.K",
"dq_absmax_offset.K", "dq_dequantized.K"). bitsandbytes quantizes the same weights with
quant_type nf4 and blocksize 64 (compress_statistics False, then True); codes must be equal
and every float within 1e-6. One exception, reported: a second-level block whose values are
all zero (one first-level block, so absmax - mean = 0) decodes to 0 whatever its codes, and
bitsandbytes' native CPU kernel codes it as index 0 (0/0) where its own torch reference and
Stratum pick the code of 0; such codes are compared by their decoded values only.
Exit status 0 when all agree, 1 otherwise.
"""
import sys

import bitsandbytes
import bitsandbytes.functional as F
import torch
from safetensors.torch import load_file

TOLERANCE = 1e-6


def main(path):
    tensors = load_file(path)
    keys = sorted(k.split(".", 1)[1] for k in tensors if k.startswith("weight."))
    failures, compared, worst, zero_blocks = [], 0, 0.0, 0

    def exact(name, ours, theirs):
        nonlocal compared
        compared += 1
        if not torch.equal(ours.reshape(-1), theirs.reshape(-1).to(ours.dtype)):
            failures.append(f"{name}: {(ours.reshape(-1) != theirs.reshape(-1).to(ours.dtype)).sum()} values differ")

    def close(name, ours, theirs):
        nonlocal compared, worst
        compared += 1
        difference = (ours.reshape(-1).float() - theirs.reshape(-1).float()).abs().max().item()
        worst = max(worst, difference)
        if difference > TOLERANCE:
            failures.append(f"{name}: max difference {difference:.3g}")

    for k in keys:
        weight = tensors[f"weight.{k}"]
        packed, state = F.quantize_4bit(weight, blocksize=64, quant_type="nf4", compress_statistics=False)
        exact(f"codes.{k}", tensors[f"codes.{k}"], packed)
        close(f"absmax.{k}", tensors[f"absmax.{k}"], state.absmax)
        close(f"dequantized.{k}", tensors[f"dequantized.{k}"], F.dequantize_4bit(packed, state))

        packed, state = F.quantize_4bit(weight, blocksize=64, quant_type="nf4", compress_statistics=True)
        exact(f"dq_codes.{k}", tensors[f"dq_codes.{k}"], packed)
        # Codes of all-zero second-level blocks (absmax 0) decode to 0 whatever they are.
        live = torch.repeat_interleave(state.state2.absmax != 0, 256)[: state.absmax.numel()]
        zero_blocks += int((state.state2.absmax == 0).sum())
        exact(f"dq_absmax_codes.{k}", tensors[f"dq_absmax_codes.{k}"][live], state.absmax[live])
        close(f"dq_absmax_scales.{k}", tensors[f"dq_absmax_scales.{k}"], state.state2.absmax)
        close(f"dq_absmax_offset.{k}", tensors[f"dq_absmax_offset.{k}"], state.offset)
        close(f"dq_dequantized.{k}", tensors[f"dq_dequantized.{k}"], F.dequantize_4bit(packed, state))

    print(f"bitsandbytes {bitsandbytes.__version__}: {compared} tensors over {len(keys)} weights compared, "
          f"largest float difference {worst:.3g}; {zero_blocks} all-zero second-level blocks compared by value only")
    for failure in failures:
        print("MISMATCH", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

#!/usr/bin/env python3
"""Reference side of Stratum's LoRA parity test: Hugging Face PEFT on GPT-2.

  peft_lora.py BASE.safetensors ADAPTER.safetensors FIXTURES.safetensors RANK ALPHA

BASE holds GPT-2 weights in Hugging Face's names (a Stratum export), ADAPTER the LoRA A / B
matrices in PEFT's names, FIXTURES the inputs with Stratum's logits and the gradients of
mean(logits^2) with respect to every A and B. The GPT-2 shape is reference_models.gpt2().
Exit status 0 when logits and gradients agree to 1e-5, 1 otherwise.
"""
import os
import sys

import torch
from peft import LoraConfig, get_peft_model
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_models import gpt2  # noqa: E402

TOLERANCE = 1e-5


def main(base_path, adapter_path, fixtures_path, rank, alpha):
    model = gpt2()
    state = load_file(base_path)
    state["lm_head.weight"] = state["transformer.wte.weight"]
    model.load_state_dict(state, strict=False)
    config = LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=0.0, target_modules=["c_attn", "c_proj", "c_fc"],
                        fan_in_fan_out=True, bias="none")
    model = get_peft_model(model, config)
    adapter = {k.replace(".weight", ".default.weight"): v for k, v in load_file(adapter_path).items()}
    result = model.load_state_dict(adapter, strict=False)
    missing = [k for k in result.missing_keys if "lora_" in k]
    if missing or result.unexpected_keys:
        print(f"PEFT rejects the adapter: missing {missing}, unexpected {result.unexpected_keys}")
        return 1
    model.eval()
    fixtures = load_file(fixtures_path)
    logits = model(input_ids=fixtures["inputs"]).logits
    logits.pow(2).mean().backward()
    worst_logit = (logits.detach() - fixtures["logits"]).abs().max().item()
    worst_grad = 0.0
    compared = 0
    for name, parameter in model.named_parameters():
        if "lora_" not in name:
            continue
        key = name.replace(".default.weight", ".weight") + ".grad"
        if key not in fixtures:
            print(f"no Stratum gradient for {name}")
            return 1
        worst_grad = max(worst_grad, (parameter.grad - fixtures[key]).abs().max().item())
        compared += 1
    print(f"PEFT vs Stratum: max |logit difference| = {worst_logit:.3e}, "
          f"max |LoRA gradient difference| = {worst_grad:.3e} over {compared} tensors")
    return 0 if worst_logit <= TOLERANCE and worst_grad <= TOLERANCE else 1


if __name__ == "__main__":
    if len(sys.argv) != 6:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])))

#!/usr/bin/env python3
"""Reference side of Stratum's weight-parity tests: Hugging Face GPT-2 and timm ViT.

  make  {gpt2,vit,vit-avg} DIR         random reference model -> DIR/weights.safetensors and
                                DIR/fixtures.safetensors (inputs, logits)
  check {gpt2,vit,vit-avg} WEIGHTS FIX  load Stratum-exported WEIGHTS into the reference model and
                                compare its logits on FIX's inputs with FIX's logits
  score DIR ITEMS               the same random GPT-2 -> DIR/weights.safetensors and
                                DIR/expected.jsonl: each multiple-choice ending's summed
                                log-likelihood given its context (HellaSwag-style ITEMS)
  generate DIR                  random GPT-2 (128 positions) -> DIR/weights.safetensors,
                                DIR/prompts.jsonl and DIR/expected.jsonl: transformers' greedy
                                generate(do_sample=False) of 64 new tokens, one prompt alone and
                                three of different lengths in one left-padded batch

The shapes must match what tests/integration/reference_parity_test.cpp builds in Stratum.
Exit status 0 when the logits agree to 1e-4, 1 otherwise.
"""
import sys

import torch
from safetensors.torch import load_file, save_file

TOLERANCE = 1e-4


def gpt2():
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(n_layer=2, n_embd=64, n_head=4, n_inner=256, vocab_size=257, n_positions=32,
                        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=0, eos_token_id=0)
    return GPT2LMHeadModel(config).eval()


def vit(global_pool="token"):
    from timm.models.vision_transformer import VisionTransformer

    return VisionTransformer(img_size=32, patch_size=8, in_chans=3, num_classes=10, embed_dim=64, depth=2,
                             num_heads=4, mlp_ratio=4.0, global_pool=global_pool).eval()


def build(kind):
    return {"gpt2": gpt2, "vit": vit, "vit-avg": lambda: vit("avg")}[kind]()


def inputs(kind):
    generator = torch.Generator().manual_seed(11)
    if kind == "gpt2":
        return torch.randint(0, 257, (2, 16), generator=generator)
    return torch.randn(2, 3, 32, 32, generator=generator)


def logits(model, kind, x):
    with torch.no_grad():
        return (model(input_ids=x).logits if kind == "gpt2" else model(x)).float()


def make(kind, directory):
    torch.manual_seed(5)
    model = build(kind)
    # Reference inits leave biases at 0 and LayerNorms at 1: perturb everything so a
    # misplaced bias or norm cannot pass unnoticed.
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    state = {k: v.contiguous() for k, v in model.state_dict().items() if k != "lm_head.weight"}
    save_file(state, f"{directory}/weights.safetensors", metadata={"format": "pt"})
    x = inputs(kind)
    save_file({"inputs": x, "logits": logits(model, kind, x)}, f"{directory}/fixtures.safetensors")


def check(kind, weights, fixtures):
    model = build(kind)
    state = load_file(weights)
    if kind == "gpt2":
        state["lm_head.weight"] = state["transformer.wte.weight"]
    result = model.load_state_dict(state, strict=False)
    unexpected = [k for k in result.unexpected_keys]
    missing = [k for k in result.missing_keys if not k.endswith(".attn.bias")]
    if missing or unexpected:
        print(f"reference model rejects the export: missing {missing}, unexpected {unexpected}")
        return 1
    fix = load_file(fixtures)
    difference = (logits(model, kind, fix["inputs"]) - fix["logits"]).abs().max().item()
    print(f"{kind}: max |logit difference| = {difference:.3e}")
    return 0 if difference <= TOLERANCE else 1


def random_gpt2(directory, spread):
    """A byte-level GPT-2 with 128 positions, every parameter moved by N(0, spread) from its
    init, saved to DIR/weights.safetensors."""
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(5)
    config = GPT2Config(n_layer=2, n_embd=64, n_head=4, n_inner=256, vocab_size=257, n_positions=128,
                        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=None, eos_token_id=None)
    model = GPT2LMHeadModel(config).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * spread)
    state = {k: v.contiguous() for k, v in model.state_dict().items() if k != "lm_head.weight"}
    save_file(state, f"{directory}/weights.safetensors", metadata={"format": "pt"})
    return model


def score(directory, items):
    """Each ending's summed log-likelihood given its context, bytes as tokens, an ending
    prefixed with a space unless the context ends in one: DIR/expected.jsonl, one line per item."""
    import json

    model = random_gpt2(directory, 0.05)
    with open(items) as f, open(f"{directory}/expected.jsonl", "w") as out:
        for line in f:
            if not line.strip():
                continue
            item = json.loads(line)
            context = list(item["ctx"].encode())
            sums = []
            for ending in item["endings"]:
                text = ending if item["ctx"][-1].isspace() or ending[0].isspace() else " " + ending
                tokens = list(text.encode())
                ids = torch.tensor([context + tokens])
                with torch.no_grad():
                    log_probs = torch.log_softmax(model(input_ids=ids).logits.double(), -1)[0]
                sums.append(sum(log_probs[len(context) + i - 1, t].item() for i, t in enumerate(tokens)))
            out.write(json.dumps({"sum_log_likelihood": sums}) + "\n")
    return 0


def generate(directory):
    import json

    model = random_gpt2(directory, 0.4)  # far from the init: a varied greedy path, not one token repeated
    generator = torch.Generator().manual_seed(3)
    prompts = [torch.randint(0, 256, (n,), generator=generator).tolist() for n in (9, 4, 13)]
    rows = []
    # Alone, then all three in one batch, left-padded (the pad id 256 is never attended to).
    for batch in ([prompts[0]], prompts):
        longest = max(len(p) for p in batch)
        ids = torch.tensor([[256] * (longest - len(p)) + p for p in batch])
        mask = torch.tensor([[0] * (longest - len(p)) + [1] * len(p) for p in batch])
        with torch.no_grad():
            out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=64, min_new_tokens=64,
                                 do_sample=False, pad_token_id=256, eos_token_id=None)
        rows.append([row[longest:].tolist() for row in out])
    with open(f"{directory}/prompts.jsonl", "w") as f:
        for p in prompts:
            f.write(json.dumps({"tokens": p}) + "\n")
    with open(f"{directory}/expected.jsonl", "w") as f:
        f.write(json.dumps({"alone": rows[0], "batched": rows[1]}) + "\n")
    return 0


def main(argv):
    if len(argv) >= 3 and argv[0] == "make":
        make(argv[1], argv[2])
        return 0
    if len(argv) >= 3 and argv[0] == "score":
        return score(argv[1], argv[2])
    if len(argv) >= 2 and argv[0] == "generate":
        return generate(argv[1])
    if len(argv) >= 4 and argv[0] == "check":
        return check(argv[1], argv[2], argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

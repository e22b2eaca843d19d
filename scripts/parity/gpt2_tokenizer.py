#!/usr/bin/env python3
"""Reference side of the GPT-2 tokenizer parity test.

  gpt2_tokenizer.py DIR CORPUS TEXTS   trains a small byte-level BPE (Hugging Face `tokenizers`,
                                       GPT-2's pre-tokenizer, <|endoftext|> special) on CORPUS and
                                       saves DIR/vocab.json and DIR/merges.txt; then writes
                                       DIR/expected.jsonl: for each line of TEXTS (JSON strings),
                                       {"ids": transformers GPT2Tokenizer.from_pretrained(DIR).encode(text)}

Stratum's data::Gpt2Tokenizer must produce the same ids for every text.
"""
import json
import sys

from tokenizers import ByteLevelBPETokenizer
from transformers import GPT2Tokenizer


def main(out_dir, corpus, texts):
    trainer = ByteLevelBPETokenizer()
    trainer.train([corpus], vocab_size=1200, min_frequency=2, special_tokens=["<|endoftext|>"])
    trainer.save_model(out_dir)
    tokenizer = GPT2Tokenizer.from_pretrained(out_dir)  # as from a Hugging Face model folder
    with open(texts, encoding="utf-8") as f, open(f"{out_dir}/expected.jsonl", "w", encoding="utf-8") as out:
        for line in f:
            if line.strip():
                text = json.loads(line)
                out.write(json.dumps({"ids": tokenizer.encode(text)}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))

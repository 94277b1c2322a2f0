#!/usr/bin/env python3
"""Sampling from the model (no KV cache: the window is recomputed each step).

CLI:  python3 tools/train/sample.py models/fp6-tiny-en --chat "Tell me about the sea."
      python3 tools/train/sample.py models/fp6-tiny-en "It was a fine morning"
"""

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tok import BOS, EOS, IM_END, render_chat  # noqa: E402


@torch.no_grad()
def generate(model, ids, max_new, temperature, top_k, seed, stop=(EOS, IM_END), device="cpu"):
    g = torch.Generator(device=device)
    g.manual_seed(seed)
    ctx = model.cfg.max_position_embeddings
    ids = list(ids)
    out = []
    for _ in range(max_new):
        x = torch.tensor([ids[-ctx:]], dtype=torch.long, device=device)
        logits = model(x)[0, -1].float()
        if temperature <= 0:
            nxt = int(logits.argmax())
        else:
            logits = logits / temperature
            if top_k:
                kth = torch.topk(logits, top_k).values[-1]
                logits = logits.masked_fill(logits < kth, float("-inf"))
            probs = torch.softmax(logits, dim=-1)
            nxt = int(torch.multinomial(probs, 1, generator=g))
        if nxt in stop:
            break
        ids.append(nxt)
        out.append(nxt)
    return out


def complete(model, tokenizer, prompt, chat, device, max_new=200, temperature=0.7, top_k=40, seed=0):
    if chat:
        text = render_chat([{"role": "user", "content": prompt}], add_generation_prompt=True)
        ids = tokenizer.encode(text, add_special_tokens=False).ids
    else:
        ids = [BOS] + tokenizer.encode(prompt, add_special_tokens=False).ids
    out = generate(model, ids, max_new, temperature, top_k, seed, device=device)
    return tokenizer.decode(out, skip_special_tokens=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model_dir")
    ap.add_argument("prompt")
    ap.add_argument("--chat", action="store_true")
    ap.add_argument("--max-new", type=int, default=200)
    ap.add_argument("--temperature", type=float, default=0.7)
    ap.add_argument("--top-k", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    from tokenizers import Tokenizer

    from export import load_hf_folder
    model = load_hf_folder(args.model_dir, device=args.device)
    tok = Tokenizer.from_file(os.path.join(args.model_dir, "tokenizer.json"))
    print(complete(model, tok, args.prompt, args.chat, args.device, args.max_new,
                   args.temperature, args.top_k, args.seed))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Held-out perplexity, computed the same way everywhere (PyTorch here, C# later).

Method ("bos-chunks"):
  * tokenize the whole UTF-8 text as ONE string with the model's tokenizer,
    without special tokens (add_special_tokens=False);
  * cut the token ids into consecutive, non-overlapping chunks of `ctx` tokens
    (ctx = 1024, the trained context); the last chunk may be shorter;
  * for each chunk c[0..n-1] the model input is [BOS] + c[0..n-2] (n tokens,
    positions 0..n-1) and the targets are c[0..n-1]: every text token is scored
    exactly once, the first token of a chunk is predicted from BOS alone;
  * NLL = sum of -log softmax(logits)[target] computed in float32 (float64 sum);
    perplexity = exp(NLL / number of scored tokens); bits per byte =
    NLL / ln 2 / UTF-8 bytes of the text.

CLI:  python3 tools/train/evaluate.py models/fp6-tiny-en tests/data/quality/heldout.txt
"""

import argparse
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tok import BOS  # noqa: E402


@torch.no_grad()
def perplexity_ids(model, ids, ctx, device, batch=16, n_bytes=None):
    model.eval()
    chunks = [ids[i:i + ctx] for i in range(0, len(ids), ctx)]
    nll, count = 0.0, 0
    full = [c for c in chunks if len(c) == ctx]
    rest = [c for c in chunks if len(c) != ctx]
    groups = [full[i:i + batch] for i in range(0, len(full), batch)] + [[c] for c in rest]
    for g in groups:
        tgt = torch.tensor(g, dtype=torch.long, device=device)
        inp = torch.cat([torch.full((tgt.shape[0], 1), BOS, dtype=torch.long, device=device),
                         tgt[:, :-1]], dim=1)
        logits = model(inp).float()
        lp = F.log_softmax(logits, dim=-1).gather(-1, tgt[..., None]).squeeze(-1)
        nll += -lp.double().sum().item()
        count += tgt.numel()
    out = {"tokens": count, "chunks": len(chunks), "nll_sum": nll, "loss": nll / count,
           "perplexity": math.exp(nll / count)}
    if n_bytes:
        out["bytes"] = n_bytes
        out["bits_per_byte"] = nll / math.log(2) / n_bytes
    return out


def perplexity_text(model, tokenizer, text, ctx, device, batch=16):
    ids = tokenizer.encode(text, add_special_tokens=False).ids
    return perplexity_ids(model, ids, ctx, device, batch=batch, n_bytes=len(text.encode("utf-8")))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_dir")
    ap.add_argument("text_file")
    ap.add_argument("--ctx", type=int, default=None)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--ref-tokenizer", action="store_true",
                    help="use the plain-Python encoder bpe_ref.py instead of the tokenizers library")
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    from export import load_hf_folder
    model = load_hf_folder(args.model_dir, device=args.device, dtype=torch.float32)
    path = os.path.join(args.model_dir, "tokenizer.json")
    if args.ref_tokenizer:
        from bpe_ref import ByteLevelBPE
        tokenizer = ByteLevelBPE(path)
    else:
        from tokenizers import Tokenizer
        tokenizer = Tokenizer.from_file(path)
    ctx = args.ctx or model.cfg.max_position_embeddings
    text = open(args.text_file, encoding="utf-8").read()
    r = perplexity_text(model, tokenizer, text, ctx, args.device)
    r.update({"device": args.device, "torch": torch.__version__, "context_length": ctx,
              "tokenizer_impl": "bpe_ref.py" if args.ref_tokenizer else "tokenizers"})
    print(json.dumps(r))


if __name__ == "__main__":
    main()

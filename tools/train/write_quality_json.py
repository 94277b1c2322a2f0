#!/usr/bin/env python3
"""Write the quality-set reference files from a training run's metrics.json.

  python3 tools/train/write_quality_json.py tools/train/runs/2026-11-21-run2/metrics-cand-a.json \
      [--cpu-check cpu.json]

writes tests/data/quality/pytorch_perplexity.json (method + numbers) and
tests/data/quality/heldout.tokens.json (token-count, id checksum, first ids and
probe strings, encoded with the plain-Python reference encoder bpe_ref.py, whose
token count is checked against the one the tokenizers library gave in training).
"""

import argparse
import hashlib
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bpe_ref import ByteLevelBPE  # noqa: E402
from tok import render_chat  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODEL = "models/fp6-tiny-en"
QDIR = "tests/data/quality"

PROBES = [
    "Hello, world! It is a truth universally acknowledged.",
    "  two leading spaces, tabs\tand\nnew lines\n\n",
    "Numbers 12345 and 3.14159; don't, we'll, I'm, they've.",
    "Unicode: café, naïve, Æsop, — em dash, ünïcödé, 日本語, emoji \U0001F600",
    "func main() {\n\tfmt.Println(\"hi\")\n}\n",
    render_chat([{"role": "system", "content": "You are a helpful assistant."},
                 {"role": "user", "content": "What is a garden?"}], add_generation_prompt=True),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("metrics")
    ap.add_argument("--cpu-check", default=None, help="JSON printed by evaluate.py on another machine")
    ap.add_argument("--tokenizer", default=os.path.join(REPO, MODEL, "tokenizer.json"))
    args = ap.parse_args()
    m = json.load(open(args.metrics))
    tok = ByteLevelBPE(args.tokenizer)
    text = open(os.path.join(REPO, QDIR, "heldout.txt"), encoding="utf-8").read()
    ids = tok.encode(text, add_special_tokens=False).ids
    ev = m["eval"]
    q16 = ev["exported_fp16_weights"]["quality_slice"]
    assert len(ids) == q16["tokens"], (len(ids), q16["tokens"])
    digest = hashlib.sha256(b"".join(struct.pack("<H", i) for i in ids)).hexdigest()

    tokens = {
        "tokenizer": MODEL + "/tokenizer.json",
        "text": QDIR + "/heldout.txt",
        "add_special_tokens": False,
        "count": len(ids),
        "sha256_of_ids_as_uint16_le": digest,
        "first_1024_ids": ids[:1024],
        "probes": [{"text": p, "add_special_tokens": not p.startswith("<|begin_of_text|>"),
                    "ids": tok.encode(p, add_special_tokens=not p.startswith("<|begin_of_text|>")).ids}
                   for p in PROBES],
        "note": "ids made with tools/train/bpe_ref.py (plain Python). Its token count for heldout.txt "
                "equals the one the tokenizers library produced on the GPU machine; the probe ids were "
                "not cross-checked against the library (it is not installed on the development machine)",
    }
    with open(os.path.join(REPO, QDIR, "heldout.tokens.json"), "w", encoding="utf-8") as f:
        json.dump(tokens, f, ensure_ascii=False)
        f.write("\n")

    def pick(r):
        return {k: r[k] for k in ("tokens", "chunks", "bytes", "nll_sum", "loss", "perplexity",
                                  "bits_per_byte") if k in r}

    out = {
        "model": MODEL,
        "text": QDIR + "/heldout.txt",
        "text_bytes": len(text.encode("utf-8")),
        "method": {
            "name": "bos-chunks",
            "tokenize": "the whole file as one UTF-8 string, tokenizer.json, add_special_tokens=false "
                        "(no BOS/EOS added), file read as is (it ends with one newline)",
            "context_length": 1024,
            "chunking": "consecutive non-overlapping chunks of 1024 token ids; the last chunk is "
                        "shorter (86107 = 84*1024 + 91)",
            "bos_handling": "model input for a chunk c[0..n-1] is [BOS=0] + c[0..n-2] at positions "
                            "0..n-1; targets are c[0..n-1]; every text token is scored once, the first "
                            "token of each chunk is predicted from BOS alone",
            "positions": "each chunk starts at position 0 (no cache carried between chunks)",
            "dtype": "weights as shipped (float16) upcast to float32, all compute in float32 "
                     "(TF32 off); log-softmax in float32, NLL summed in float64",
            "perplexity": "exp(nll_sum / tokens)",
            "bits_per_byte": "nll_sum / ln(2) / text_bytes",
            "code": "tools/train/evaluate.py (perplexity_ids)",
        },
        "pytorch": {
            "device": m.get("gpu"), "torch": m.get("torch"),
            "exported_fp16_weights": pick(q16),
            "fp32_master_weights_before_export": pick(ev["fp32_master_weights"]["quality_slice"]),
        },
        "transformers_check": {k: (pick(v) if isinstance(v, dict) else v)
                               for k, v in m.get("hf_check", {}).items()
                               if k in ("transformers", "max_abs_logit_diff_vs_ours", "same_argmax_fraction",
                                        "quality_slice_hf", "hf_tokenizer_matches", "chat_template_matches")},
        "heldout_all_sources": {
            "note": "all 2.2 MB of held-out text, per source and together (same method, each source's "
                    "documents joined by a blank line); the quality slice is a fixed part of it",
            "all": ev["exported_fp16_weights"]["heldout_all"],
            "by_source": {s: pick(r) for s, r in ev["exported_fp16_weights"]["heldout_by_source"].items()},
        },
    }
    if args.cpu_check:
        out["cpu_reproduction"] = json.load(open(args.cpu_check))
    with open(os.path.join(REPO, QDIR, "pytorch_perplexity.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(json.dumps(out["pytorch"], indent=1))


if __name__ == "__main__":
    main()

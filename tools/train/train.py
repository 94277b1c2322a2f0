#!/usr/bin/env python3
"""Train the embedded default model end to end on one GPU, in one command.

  corpus (tools/corpus/build_corpus.py output, .jsonl or .jsonl.xz)
  -> byte-level BPE tokenizer (tok.py)
  -> token stream: every document is [BOS] text [EOS]; chat examples are rendered
     with the ChatML template (which starts with BOS) and end with [EOS];
     documents and chat examples are shuffled together with a fixed seed
  -> Llama model (model.py), bf16 autocast, AdamW, linear warm-up + cosine decay;
     every training sequence is BOS + ctx-1 tokens taken at a random offset of the
     stream, the targets are those ctx tokens (the same layout as evaluate.py)
  -> float16 HF export (export.py), perplexity (evaluate.py), samples (sample.py),
     and a check that transformers loads the folder and agrees with our model.

The number of optimizer steps is derived from the measured step time so that
training ends `--train-until` seconds after the script started, unless --steps
is given (use the logged value to rerun the same schedule).
"""

import argparse
import copy
import json
import lzma
import math
import os
import random
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import evaluate as ev  # noqa: E402
import export as ex  # noqa: E402
import sample as sp  # noqa: E402
import tok as tk  # noqa: E402
from model import LlamaConfig, LlamaForCausalLM  # noqa: E402

T0 = time.time()


def log(*a):
    print(f"[{time.time() - T0:6.1f}s]", *a, flush=True)


def read_jsonl(folder, name):
    for fn, opener in ((name + ".xz", lzma.open), (name, open)):
        p = os.path.join(folder, fn)
        if os.path.exists(p):
            with opener(p, "rt", encoding="utf-8") as f:
                return [json.loads(line) for line in f]
    raise FileNotFoundError(os.path.join(folder, name))


def build_tokenizer(args, train_docs, chats, out_dir):
    """Train (or load) the tokenizer; returns a tokenizers.Tokenizer."""
    from tokenizers import Tokenizer
    path = os.path.join(out_dir, "tokenizer.json")
    if args.tokenizer:
        tokenizer = Tokenizer.from_file(args.tokenizer)
        tokenizer.save(path)
        return tokenizer

    def texts():
        batch = []
        for d in train_docs:
            batch.append(d["text"])
            if len(batch) == 512:
                yield batch
                batch = []
        for c in chats:
            batch.append("\n".join(m["role"] + "\n" + m["content"] for m in c["messages"]))
            if len(batch) == 512:
                yield batch
                batch = []
        if batch:
            yield batch

    return tk.train_tokenizer(texts(), args.vocab, path)


def encode_all(tokenizer, texts):
    fn = getattr(tokenizer, "encode_batch_fast", None) or tokenizer.encode_batch
    out = []
    for i in range(0, len(texts), 4096):
        out += [e.ids for e in fn(texts[i:i + 4096], add_special_tokens=False)]
    return out


def build_stream(tokenizer, docs, chats, seed):
    items = [("doc", d["text"]) for d in docs] + [("chat", tk.render_chat(c["messages"])) for c in chats]
    random.Random(seed).shuffle(items)
    ids = encode_all(tokenizer, [t for _, t in items])
    parts = []
    for (kind, _), x in zip(items, ids):
        if kind == "doc":
            parts.append(np.asarray([tk.BOS] + x + [tk.EOS], dtype=np.int32))
        else:
            assert x[0] == tk.BOS, "chat template must start with BOS"
            parts.append(np.asarray(x + [tk.EOS], dtype=np.int32))
    return np.concatenate(parts)


def lr_at(step, total, a):
    if step < a.warmup:
        return a.lr * (step + 1) / a.warmup
    if total is None:
        return a.lr
    p = min(1.0, (step - a.warmup) / max(1, total - a.warmup))
    return a.min_lr + 0.5 * (a.lr - a.min_lr) * (1 + math.cos(math.pi * p))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=".work/corpus")
    ap.add_argument("--out-dir", required=True, help="HF model folder to write")
    ap.add_argument("--quality", default="tests/data/quality/heldout.txt")
    ap.add_argument("--tokenizer", default=None, help="reuse this tokenizer.json instead of training one")
    ap.add_argument("--vocab", type=int, default=8192)
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--intermediate", type=int, default=1408)
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--ctx", type=int, default=1024)
    ap.add_argument("--batch", type=int, default=64, help="sequences per micro-batch")
    ap.add_argument("--accum", type=int, default=2, help="micro-batches per optimizer step")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--min-lr", type=float, default=2e-4)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--wd", type=float, default=0.1)
    ap.add_argument("--steps", type=int, default=None, help="fixed number of optimizer steps")
    ap.add_argument("--train-until", type=float, default=470.0,
                    help="seconds after start at which training must end (when --steps is not given)")
    ap.add_argument("--hard-stop", type=float, default=None,
                    help="end training (schedule unfinished) this many seconds after start")
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--keep-best", action="store_true",
                    help="ship the checkpoint with the lowest validation loss (validation = held-out "
                         "documents that are not in the quality slice)")
    ap.add_argument("--calib-steps", type=int, default=60)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--no-hf-check", action="store_true")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--max-docs", type=int, default=None, help="smoke tests only")
    args = ap.parse_args()
    dev = args.device
    os.makedirs(args.out_dir, exist_ok=True)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    random.seed(args.seed)
    metrics = {"args": vars(args)}
    if dev == "cuda":
        metrics["gpu"] = torch.cuda.get_device_name(0)
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    metrics["torch"] = torch.__version__

    # ------------------------------------------------------------------ data
    train_docs = read_jsonl(args.corpus, "train.jsonl")
    held_docs = read_jsonl(args.corpus, "heldout.jsonl")
    chats = read_jsonl(args.corpus, "chat.jsonl")
    if args.max_docs:
        train_docs, held_docs, chats = (train_docs[:args.max_docs], held_docs[:args.max_docs // 4],
                                        chats[:args.max_docs // 4])
    log(f"corpus: {len(train_docs)} train docs, {len(held_docs)} held-out docs, {len(chats)} chats")
    tokenizer = build_tokenizer(args, train_docs, chats, args.out_dir)
    log("tokenizer ready, vocab", tokenizer.get_vocab_size())
    stream = build_stream(tokenizer, train_docs, chats, args.seed)
    held_stream = build_stream(tokenizer, held_docs, [], args.seed)
    quality_text = open(args.quality, encoding="utf-8").read() if os.path.exists(args.quality) else None
    # validation (monitoring, checkpoint choice): held-out documents outside the quality slice
    val_docs = [d for d in held_docs if not quality_text or d["text"][:300] not in quality_text]
    val_stream = build_stream(tokenizer, val_docs or held_docs, [], args.seed)
    log(f"train stream {len(stream):,} tokens, held-out stream {len(held_stream):,} tokens, "
        f"validation stream {len(val_stream):,} tokens ({len(val_docs)} docs)")
    metrics["validation_docs"] = len(val_docs)
    metrics["train_stream_tokens"] = int(len(stream))
    metrics["heldout_stream_tokens"] = int(len(held_stream))
    metrics["train_bytes"] = sum(len(d["text"].encode()) for d in train_docs)

    # ------------------------------------------------------------------ model
    cfg = LlamaConfig(vocab_size=args.vocab, hidden_size=args.hidden, intermediate_size=args.intermediate,
                      num_hidden_layers=args.layers, num_attention_heads=args.heads,
                      num_key_value_heads=args.kv_heads, head_dim=args.hidden // args.heads,
                      max_position_embeddings=args.ctx, dropout=args.dropout)
    assert cfg.head_dim == 64 or args.max_docs, "head_dim must be 64"
    model = LlamaForCausalLM(cfg).to(dev)
    n_params = model.num_parameters()
    log(f"model: {n_params:,} parameters ({'tied' if cfg.tie_word_embeddings else 'untied'} embeddings)")
    metrics["parameters"] = n_params
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt_kw = dict(lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    if dev == "cuda":
        opt_kw["fused"] = True
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.wd},
                             {"params": no_decay, "weight_decay": 0.0}], **opt_kw)
    fwd = model
    if not args.no_compile and dev == "cuda":
        try:
            fwd = torch.compile(model)
        except Exception as e:  # pragma: no cover
            log("torch.compile unavailable:", repr(e))

    data = torch.from_numpy(stream.astype(np.int64)).to(dev)
    ar = torch.arange(args.ctx, device=dev)
    gen = torch.Generator(device=dev)
    gen.manual_seed(args.seed)
    bos_col = torch.full((args.batch, 1), tk.BOS, dtype=torch.long, device=dev)

    def get_batch():
        starts = torch.randint(0, len(data) - args.ctx, (args.batch,), device=dev, generator=gen)
        y = data[starts[:, None] + ar[None, :]]
        return torch.cat([bos_col, y[:, :-1]], dim=1), y

    # fixed monitoring windows from the validation stream (same layout as training)
    hs = torch.from_numpy(val_stream.astype(np.int64)).to(dev)
    n_mon = min(128, max(1, (len(hs) - 1) // args.ctx))
    stride = (len(hs) - args.ctx) // n_mon
    mon_y = torch.stack([hs[i * stride:i * stride + args.ctx] for i in range(n_mon)])
    mon_x = torch.cat([torch.full((n_mon, 1), tk.BOS, dtype=torch.long, device=dev), mon_y[:, :-1]], 1)

    autocast = torch.autocast(device_type="cuda" if dev == "cuda" else "cpu", dtype=torch.bfloat16)

    @torch.no_grad()
    def monitor():
        model.eval()
        tot = 0.0
        for i in range(0, n_mon, 16):
            with autocast:
                tot += model(mon_x[i:i + 16], mon_y[i:i + 16]).item() * len(mon_x[i:i + 16])
        model.train()
        return tot / n_mon

    best = {"loss": float("inf"), "step": None, "state": None}

    def track(step_no):
        v = monitor()
        if v < best["loss"]:
            best.update(loss=v, step=step_no)
            if args.keep_best:
                best["state"] = {k: t.detach().clone() for k, t in model.state_dict().items()}
        return v

    # ------------------------------------------------------------------ train
    total = args.steps
    tokens_per_step = args.batch * args.accum * args.ctx
    history = []
    loss_acc = torch.zeros((), device=dev)
    n_acc = 0
    step = 0
    t_train0 = time.time()
    t_calib = None
    t_after_compile = None
    model.train()
    while True:
        if total is not None and step >= total:
            break
        if total is None and step == args.calib_steps:
            if dev == "cuda":
                torch.cuda.synchronize()
            per_step = (time.time() - t_calib) / (args.calib_steps - 20)
            left = args.train_until - (time.time() - T0)
            total = step + max(0, int(left / per_step * 0.97))
            log(f"measured {per_step * 1000:.1f} ms/step -> total steps {total}")
        if total is None and step == 20:
            if dev == "cuda":
                torch.cuda.synchronize()
            t_calib = time.time()
        over = (args.hard_stop is not None and time.time() - T0 > args.hard_stop) or \
            (total is not None and time.time() - T0 > args.train_until + 30 and args.steps is None)
        if over:
            log(f"hard stop at step {step}: over the time budget")
            metrics["hard_stop_step"] = step
            history.append({"step": step, "validation_loss": track(step)})
            break
        lr = lr_at(step, total, args)
        for gparam in opt.param_groups:
            gparam["lr"] = lr
        for _ in range(args.accum):
            x, y = get_batch()
            try:
                with autocast:
                    loss = fwd(x, y)
                (loss / args.accum).backward()
            except Exception as e:
                if fwd is model or step > 0:
                    raise
                log("torch.compile failed, falling back to eager:", repr(e)[:2000])
                metrics["compile_error"] = repr(e)[:2000]
                fwd = model
                opt.zero_grad(set_to_none=True)
                with autocast:
                    loss = fwd(x, y)
                (loss / args.accum).backward()
            loss_acc += loss.detach()
            n_acc += 1
        gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        if step == 1:
            t_after_compile = time.time()
            log(f"first step done (compile included) in {t_after_compile - t_train0:.1f}s")
        if step % 50 == 0 or step == total:
            tl = (loss_acc / max(1, n_acc)).item()
            loss_acc.zero_()
            n_acc = 0
            rec = {"step": step, "train_loss": tl, "lr": lr, "grad_norm": float(gnorm),
                   "elapsed": time.time() - T0}
            if step % args.eval_every == 0 or step == total:
                rec["validation_loss"] = track(step)
            el = time.time() - t_after_compile
            rec["tokens_per_s"] = (step - 1) * tokens_per_step / max(el, 1e-9)
            history.append(rec)
            log(json.dumps(rec))
    if dev == "cuda":
        torch.cuda.synchronize()
    t_train = time.time() - t_train0
    tps = (step - 1) * tokens_per_step / max(1e-9, time.time() - t_after_compile)
    metrics.update({"steps": step, "tokens_per_step": tokens_per_step, "train_tokens": step * tokens_per_step,
                    "epochs_over_stream": step * tokens_per_step / len(stream),
                    "train_seconds": t_train, "compile_and_first_step_seconds": t_after_compile - t_train0,
                    "tokens_per_second": tps,
                    "final_train_loss": next((h["train_loss"] for h in reversed(history) if "train_loss" in h),
                                             None),
                    "history": history})
    log(f"trained {step} steps, {step * tokens_per_step:,} tokens in {t_train:.0f}s ({tps:,.0f} tok/s)")
    metrics["final_validation_loss"] = next((h["validation_loss"] for h in reversed(history)
                                            if "validation_loss" in h), None)
    metrics["best_validation_loss"], metrics["best_validation_step"] = best["loss"], best["step"]
    metrics["shipped_step"] = step
    if args.keep_best and best["state"] is not None and best["step"] != step:
        model.load_state_dict(best["state"])
        metrics["shipped_step"] = best["step"]
        log(f"shipping the step-{best['step']} checkpoint (validation loss {best['loss']:.4f})")
    metrics["shipped_validation_loss"] = best["loss"] if args.keep_best else metrics["final_validation_loss"]
    best["state"] = None

    # ------------------------------------------------------------------ export
    model.eval()
    tk.write_json(os.path.join(args.out_dir, "config.json"), ex.hf_config(cfg, "float16"))
    tk.write_json(os.path.join(args.out_dir, "generation_config.json"),
                  ex.generation_config(0.7, 40, args.ctx))
    tk.write_json(os.path.join(args.out_dir, "tokenizer_config.json"), tk.tokenizer_config(args.ctx))
    files = ex.export_weights(model, args.out_dir, torch.float16)
    log("exported", files)
    metrics["compiled"] = fwd is not model
    tk.write_json(os.path.join(args.out_dir, "metrics.json"), metrics)

    # ------------------------------------------------------------------ evaluation (float32)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    master = copy.deepcopy(model).float().eval()
    shipped = ex.load_hf_folder(args.out_dir, device=dev, dtype=torch.float32)
    evals = {}
    for name, m in (("exported_fp16_weights", shipped), ("fp32_master_weights", master)):
        r = {}
        if quality_text is not None:
            r["quality_slice"] = ev.perplexity_text(m, tokenizer, quality_text, args.ctx, dev)
        per, nll, cnt, nbytes = {}, 0.0, 0, 0
        for src in sorted({d["src"] for d in held_docs}):
            text = "\n\n".join(d["text"] for d in held_docs if d["src"] == src)
            per[src] = ev.perplexity_text(m, tokenizer, text, args.ctx, dev)
            nll += per[src]["nll_sum"]
            cnt += per[src]["tokens"]
            nbytes += per[src]["bytes"]
        r["heldout_by_source"] = per
        r["heldout_all"] = {"tokens": cnt, "bytes": nbytes, "loss": nll / cnt, "perplexity": math.exp(nll / cnt),
                            "bits_per_byte": nll / math.log(2) / nbytes}
        evals[name] = r
        log(name, "quality slice:", json.dumps(r.get("quality_slice")), "| all held-out:",
            json.dumps(r["heldout_all"]))
    metrics["eval"] = evals
    del master

    # ------------------------------------------------------------------ samples
    prompts = [
        (False, "It was a cold morning in December, and"),
        (False, "The old house stood at the end of the lane"),
        (False, "Blessed is the man who"),
        (False, "A compiler is"),
        (True, "Continue: Mr. Darcy walked slowly into the room and looked about him."),
        (True, "Continue: The rain had fallen all night upon the little town."),
        (True, "What does the word harbour mean?"),
        (True, "Tell me about the word garden."),
        (True, "What is a compiler?"),
        (True, 'What does "hack" mean in hacker slang?'),
        (True, "Hello"),
        (True, "Who are you?"),
    ]
    samples = []
    for i, (chat, p) in enumerate(prompts):
        text = sp.complete(shipped, tokenizer, p, chat, dev, max_new=160, temperature=0.7, top_k=40,
                           seed=args.seed + i)
        samples.append({"chat": chat, "prompt": p, "output": text, "temperature": 0.7, "top_k": 40,
                        "seed": args.seed + i, "max_new_tokens": 160})
        log(("CHAT " if chat else "TEXT ") + repr(p) + " -> " + repr(text))
    metrics["samples"] = samples

    # ------------------------------------------------------------------ transformers check
    if not args.no_hf_check:
        metrics["hf_check"] = hf_check(args, tokenizer, shipped, quality_text, dev)
    metrics["total_seconds"] = time.time() - T0
    tk.write_json(os.path.join(args.out_dir, "metrics.json"), metrics)
    log("done")


def hf_check(args, tokenizer, shipped, quality_text, dev):
    out = {}
    try:
        import transformers
        from transformers import AutoTokenizer
        from transformers import LlamaForCausalLM as HFLlama
        out["transformers"] = transformers.__version__
        try:
            hf = HFLlama.from_pretrained(args.out_dir, dtype=torch.float32)
        except TypeError:
            hf = HFLlama.from_pretrained(args.out_dir, torch_dtype=torch.float32)
        hf = hf.to(dev).eval()
        ids = tokenizer.encode(quality_text[:20000], add_special_tokens=False).ids[:args.ctx - 1]
        x = torch.tensor([[tk.BOS] + ids], device=dev)
        with torch.no_grad():
            a = shipped(x).float()
            b = hf(input_ids=x).logits.float()
        out["max_abs_logit_diff_vs_ours"] = float((a - b).abs().max())
        out["same_argmax_fraction"] = float((a.argmax(-1) == b.argmax(-1)).float().mean())

        class Wrap(torch.nn.Module):
            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, inp):
                return self.m(input_ids=inp).logits

        out["quality_slice_hf"] = ev.perplexity_text(Wrap(hf), tokenizer, quality_text, args.ctx, dev)
        hft = AutoTokenizer.from_pretrained(args.out_dir)
        probe = "Hello, world! It is a truth universally acknowledged.\n\tfunc main() {}"
        mine = [tk.BOS] + tokenizer.encode(probe, add_special_tokens=False).ids
        out["hf_tokenizer_matches"] = hft(probe)["input_ids"] == mine
        msgs = [{"role": "system", "content": "You are a helpful assistant."},
                {"role": "user", "content": "What is a garden?"}]
        rendered = hft.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
        out["chat_template_matches"] = rendered == tk.render_chat(msgs, True)
        out["chat_template_rendered"] = rendered
        prompt_ids = hft(rendered, add_special_tokens=False, return_tensors="pt")["input_ids"].to(dev)
        g = hf.generate(prompt_ids, max_new_tokens=60, do_sample=False)
        out["hf_greedy_chat_sample"] = hft.decode(g[0][prompt_ids.shape[1]:], skip_special_tokens=False)
    except Exception as e:  # keep the run's results even if transformers disagrees
        import traceback
        out["error"] = traceback.format_exc()
    log("hf check:", json.dumps(out)[:3000])
    return out


if __name__ == "__main__":
    main()

"""Produces the reference data the Fp6.Runtime Models tests compare against, with the reference implementations:
Hugging Face `tokenizers` (token ids and decodes), jinja2 configured as transformers configures it (chat template
renders), transformers' rotary embeddings (RoPE inverse frequencies) and `safetensors` (checkpoint files).

Runs on the GPU machine (python3 with tokenizers 0.23, transformers, torch, safetensors; no network):
    python3 make_fixtures.py INPUT_DIR OUTPUT_DIR
INPUT_DIR holds this script's inputs (see README.md); OUTPUT_DIR receives tokenizer-expected.json,
templates-expected.json, rope-expected.json and safetensors.tgz. Every part catches its own errors and records them,
so one failure does not lose the rest.
"""
import json
import os
import sys
import tarfile
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_strings import all_strings  # noqa: E402

IN, OUT = sys.argv[1], sys.argv[2]
LOG = []


def log(msg):
    print(msg, flush=True)
    LOG.append(msg)


# ---------------------------------------------------------------------------------------------------------------
# Tokenizers
# ---------------------------------------------------------------------------------------------------------------
LLAMA3_PATTERN = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
QWEN2_PATTERN = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
CL100K_POSSESSIVE = r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+"
O200K_PATTERN = (r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
                 r"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
                 r"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+")


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1)) + list(range(ord("\xae"), ord("\xff") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def strip_model(cfg):
    """The tokenizer.json minus its (large, fixture-owned) vocabulary and merges; the C# test puts them back."""
    cfg = json.loads(json.dumps(cfg))
    cfg["model"]["vocab"] = None
    cfg["model"]["merges"] = None
    return cfg


def llama_variants(tokenizers):
    from tokenizers import Tokenizer, AddedToken
    path = os.path.join(IN, "llama2", "tokenizer.json")
    base_json = json.load(open(path, encoding="utf-8"))
    out = {"llama2": (Tokenizer.from_file(path), "llama2")}

    t = Tokenizer.from_file(path)
    t.add_special_tokens([AddedToken("<|user|>", normalized=False, special=True),
                          AddedToken("<mask>", lstrip=True, normalized=False, special=True)])
    t.add_tokens([AddedToken("[SEP]", rstrip=True, normalized=False),
                  AddedToken("wxyz", single_word=True, normalized=True),
                  AddedToken("\u0133k", normalized=False)])
    out["llama2-added"] = (t, "llama2")

    cfg = json.loads(json.dumps(base_json))
    cfg["normalizer"] = None
    cfg["pre_tokenizer"] = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": True}
    cfg["decoder"] = {"type": "Sequence", "decoders": [{"type": "ByteFallback"},
                                                       {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": True}]}
    out["llama2-metaspace-split"] = (Tokenizer.from_str(json.dumps(cfg)), "llama2")

    cfg = json.loads(json.dumps(base_json))
    cfg["normalizer"] = None
    cfg["pre_tokenizer"] = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": False}
    out["mistral-style"] = (Tokenizer.from_str(json.dumps(cfg)), "llama2")

    cfg = json.loads(json.dumps(base_json))
    cfg["normalizer"] = None
    cfg["pre_tokenizer"] = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}
    cfg["decoder"] = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}
    out["metaspace-always"] = (Tokenizer.from_str(json.dumps(cfg)), "llama2")
    return out


def gpt2_variants(tokenizers):
    from tokenizers import Tokenizer, AddedToken, Regex, models, pre_tokenizers, decoders, processors, normalizers
    vocab = json.load(open(os.path.join(IN, "gpt2", "encoder.json"), encoding="utf-8"))
    merges = []
    for line in open(os.path.join(IN, "gpt2", "vocab.bpe"), encoding="utf-8").read().split("\n"):
        if line.startswith("#version") or not line:
            continue
        a, b = line.split(" ")
        merges.append((a, b))

    def byte_level_tokenizer(pattern, ignore_merges=False, normalizer=None):
        t = Tokenizer(models.BPE(vocab=dict(vocab), merges=list(merges), ignore_merges=ignore_merges))
        if pattern is None:
            t.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        else:
            t.pre_tokenizer = pre_tokenizers.Sequence([
                pre_tokenizers.Split(Regex(pattern), behavior="isolated", invert=False),
                pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False)])
        if normalizer is not None:
            t.normalizer = normalizer
        t.decoder = decoders.ByteLevel()
        t.post_processor = processors.ByteLevel(trim_offsets=False)
        return t

    def gpt2():
        t = byte_level_tokenizer(None)
        t.add_special_tokens([AddedToken("<|endoftext|>", special=True, normalized=False)])
        return t

    def llama3_style():
        t = byte_level_tokenizer(LLAMA3_PATTERN, ignore_merges=True)
        specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
        t.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
        bot = t.token_to_id("<|begin_of_text|>")
        t.post_processor = processors.Sequence([
            processors.ByteLevel(trim_offsets=False),
            processors.TemplateProcessing(single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A <|begin_of_text|> $B:1",
                                          special_tokens=[("<|begin_of_text|>", bot)])])
        return t

    def qwen2_style():
        t = byte_level_tokenizer(QWEN2_PATTERN, normalizer=normalizers.NFC())
        t.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]])
        return t

    def with_pattern(pattern):
        def make():
            t = byte_level_tokenizer(pattern)
            t.add_special_tokens([AddedToken("<|endoftext|>", special=True, normalized=False)])
            return t
        return make

    out = {}
    for name, make in (("gpt2", gpt2), ("llama3-style", llama3_style), ("qwen2-style", qwen2_style),
                       ("cl100k-possessive", with_pattern(CL100K_POSSESSIVE)), ("o200k-style", with_pattern(O200K_PATTERN))):
        try:
            out[name] = (make(), "gpt2")
        except Exception:
            log(f"building {name} failed:\n" + traceback.format_exc())
    return out


def decode_cases(t, byte_level):
    """Id sequences with byte tokens cut inside UTF-8 characters: what the decoders do with broken bytes."""
    table = bytes_to_unicode()

    def byte_ids(bs):
        return [t.token_to_id(table[b]) if byte_level else t.token_to_id("<0x%02X>" % b) for b in bs]

    x = t.encode("x", add_special_tokens=False).ids
    y = t.encode(" y", add_special_tokens=False).ids
    zh = "\u4e2d".encode("utf-8")
    smile = "\U0001f600".encode("utf-8")
    seqs = [byte_ids(zh), byte_ids(zh[:1]), byte_ids(zh[:2]), x + byte_ids(zh[:2]) + y, byte_ids(smile),
            byte_ids(smile[:3]), x + byte_ids(smile[:3]), byte_ids(b"\xff"), byte_ids(b"\xc3") + y,
            byte_ids(zh[1:]), x + byte_ids(zh) + byte_ids(smile) + y]
    cases = []
    for ids in seqs:
        if any(i is None for i in ids):
            continue
        cases.append({"ids": ids, "decoded": t.decode(ids, skip_special_tokens=False)})
    return cases


def run_tokenizers():
    import tokenizers
    log("tokenizers " + tokenizers.__version__)
    variants = {}
    for make in (llama_variants, gpt2_variants):
        try:
            variants.update(make(tokenizers))
        except Exception:
            log(traceback.format_exc())
    embedded = os.path.join(IN, "embedded", "tokenizer.json")
    if os.path.exists(embedded):
        variants["embedded"] = (tokenizers.Tokenizer.from_file(embedded), "self")

    strings = all_strings()
    result = {"tokenizers_version": tokenizers.__version__, "variants": []}
    for name, (t, base) in variants.items():
        try:
            cases = []
            for s in strings:
                ids = t.encode(s, add_special_tokens=True).ids
                case = {"text": s, "ids": ids,
                        "ids_no_special": t.encode(s, add_special_tokens=False).ids,
                        "decoded": t.decode(ids, skip_special_tokens=False),
                        "decoded_skip_special": t.decode(ids, skip_special_tokens=True)}
                if "<" in s or "[" in s:
                    t.encode_special_tokens = True
                    case["ids_special_as_text"] = t.encode(s, add_special_tokens=False).ids
                    t.encode_special_tokens = False
                cases.append(case)
            entry = {"name": name, "base": base, "config": strip_model(json.loads(t.to_str())) if base != "self" else None,
                     "cases": cases, "decode_cases": decode_cases(t, byte_level=base != "llama2")}
            result["variants"].append(entry)
            log(f"tokenizer variant {name}: {len(cases)} cases")
        except Exception:
            log(f"tokenizer variant {name} failed:\n" + traceback.format_exc())
    import time
    prose = [s for s in strings if s.startswith("It is a truth")][0]
    big = (prose + "\n") * 400
    for name in ("llama2", "gpt2"):
        if name in variants:
            t = variants[name][0]
            t.encode(big)
            start = time.perf_counter()
            n = len(t.encode(big, add_special_tokens=False).ids)
            elapsed = time.perf_counter() - start
            log(f"reference speed {name}: {len(big)} chars -> {n} tokens in {elapsed * 1000:.1f} ms (one thread call)")
    with open(os.path.join(OUT, "tokenizer-expected.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False, separators=(",", ":"))


# ---------------------------------------------------------------------------------------------------------------
# Chat templates
# ---------------------------------------------------------------------------------------------------------------
def template_environment():
    """jinja2 set up the way transformers renders chat templates (trim_blocks, lstrip_blocks, loopcontrols,
    its own tojson and raise_exception); transformers' own compiler is used when it can be imported."""
    try:
        from transformers.utils.chat_template_utils import _compile_jinja_template
        log("templates: transformers' _compile_jinja_template")
        return _compile_jinja_template, "transformers"
    except Exception as e:  # noqa: BLE001
        log(f"templates: own environment ({e})")
    import jinja2
    from jinja2.ext import loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    return env.from_string, "jinja2"


SYSTEM = {"role": "system", "content": "You are terse."}
USER1 = {"role": "user", "content": "What is 2+2?"}
ASSISTANT1 = {"role": "assistant", "content": " It is 4. "}
USER2 = {"role": "user", "content": "And 3+3?"}
CONVERSATIONS = {
    "user_only": [{"role": "user", "content": "Hello!"}],
    "system_user": [SYSTEM, {"role": "user", "content": "Hi there"}],
    "multi_turn": [USER1, ASSISTANT1, USER2],
    "system_multi_turn": [SYSTEM, USER1, ASSISTANT1, USER2],
    "ends_with_assistant": [USER1, ASSISTANT1],
    "unicode": [{"role": "user", "content": "  Gr\u00fc\u00dfe \u4f60\u597d \U0001f600 \"quoted\"\n  "}],
    "bad_alternation": [USER1, USER2],
    "bad_role": [{"role": "tool", "content": "x"}],
}
TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city, in \u00b0C",
                                           "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                          "required": ["city"]}}}]
TOOL_CONVERSATION = [
    {"role": "user", "content": "Weather in Paris and Oslo?"},
    {"role": "assistant", "content": "", "tool_calls": [
        {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}},
        {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}]},
    {"role": "tool", "content": "{\"temp\": 21}"},
    {"role": "tool", "content": "{\"temp\": 9}"},
]
SPECIALS = {
    "llama2": ("<s>", "</s>"), "llama3": ("<|begin_of_text|>", "<|eot_id|>"), "mistral": ("<s>", "</s>"),
    "qwen2": (None, "<|im_end|>"), "qwen2_tools": (None, "<|im_end|>"), "zephyr": ("<s>", "</s>"),
}


def render_case(compile_fn, source, variables):
    try:
        return {"output": compile_fn(source).render(**variables)}
    except Exception as e:  # noqa: BLE001
        return {"error": type(e).__name__ + ": " + str(e)}


def run_templates():
    compile_fn, engine = template_environment()
    folder = os.path.join(IN, "templates")
    cases = []
    for name, (bos, eos) in SPECIALS.items():
        source = open(os.path.join(folder, name + ".jinja"), encoding="utf-8").read()
        conversations = dict(CONVERSATIONS)
        if name == "qwen2_tools":
            conversations["tool_calls"] = TOOL_CONVERSATION
        for conversation, messages in conversations.items():
            for generation_prompt in (False, True):
                variables = {"messages": messages, "add_generation_prompt": generation_prompt, "bos_token": bos, "eos_token": eos}
                if name == "qwen2_tools" and conversation in ("tool_calls", "system_user"):
                    variables["tools"] = TOOLS
                case = {"template": name, "conversation": conversation, "variables": variables}
                case.update(render_case(compile_fn, source, variables))
                cases.append(case)
    probes = json.load(open(os.path.join(folder, "probes.json"), encoding="utf-8"))
    probe_variables = {"messages": [SYSTEM, USER1, {"role": "assistant", "content": ""}], "none_value": None, "bos_token": "<s>",
                       "eos_token": "</s>", "add_generation_prompt": True, "x": 0,
                       "tools": [{"name": "f", "d": "\u00b0C \"q\"", "p": {"x": [1, 2.5, None, True], "e": {}, "l": []}}]}
    for name, source in probes.items():
        case = {"template": "probe:" + name, "source": source, "variables": probe_variables}
        case.update(render_case(compile_fn, source, probe_variables))
        cases.append(case)
    with open(os.path.join(OUT, "templates-expected.json"), "w", encoding="utf-8") as f:
        json.dump({"engine": engine, "cases": cases}, f, ensure_ascii=False, indent=1)
    log(f"templates: {len(cases)} cases")


# ---------------------------------------------------------------------------------------------------------------
# RoPE inverse frequencies
# ---------------------------------------------------------------------------------------------------------------
def run_rope():
    import torch
    import transformers
    from transformers import AutoConfig
    log("transformers " + transformers.__version__)
    folder = os.path.join(IN, "configs")
    results = {"transformers_version": transformers.__version__, "configs": {}}
    classes = {"llama": "transformers.models.llama.modeling_llama.LlamaRotaryEmbedding",
               "mistral": "transformers.models.mistral.modeling_mistral.MistralRotaryEmbedding",
               "qwen2": "transformers.models.qwen2.modeling_qwen2.Qwen2RotaryEmbedding"}
    for file in sorted(os.listdir(folder)):
        try:
            raw = json.load(open(os.path.join(folder, file)))
            raw_kwargs = {k: v for k, v in raw.items() if k != "model_type"}
            config = AutoConfig.for_model(raw["model_type"], **raw_kwargs)
            module, cls = classes[raw["model_type"]].rsplit(".", 1)
            rotary = getattr(__import__(module, fromlist=[cls]), cls)(config=config)
            entry = {"inv_freq": rotary.inv_freq.float().tolist(),
                     "attention_scaling": float(getattr(rotary, "attention_scaling", 1.0))}
            if "dynamic" in json.dumps(raw):
                # Dynamic NTK scaling recomputes the frequencies once a longer sequence has been seen.
                long = 2 * int(raw.get("max_position_embeddings", 2048))
                x = torch.zeros(1, 1, 1, dtype=torch.float32)
                rotary(x, torch.arange(long).unsqueeze(0))
                entry["after_sequence_length"] = long
                entry["inv_freq_after_long_sequence"] = rotary.inv_freq.float().tolist()
            results["configs"][file] = entry
            log(f"rope {file}: {len(entry['inv_freq'])} frequencies")
        except Exception:
            results["configs"][file] = {"error": traceback.format_exc()}
            log(f"rope {file} failed:\n" + traceback.format_exc())
    with open(os.path.join(OUT, "rope-expected.json"), "w") as f:
        json.dump(results, f, indent=1)


# ---------------------------------------------------------------------------------------------------------------
# safetensors files written by the reference library
# ---------------------------------------------------------------------------------------------------------------
def run_safetensors():
    import torch
    from safetensors.torch import save_file
    folder = os.path.join(OUT, "st")
    os.makedirs(os.path.join(folder, "single"), exist_ok=True)
    os.makedirs(os.path.join(folder, "sharded"), exist_ok=True)
    special = [0.0, -0.0, 1.0, -2.5, 1.0 / 3.0, 65504.0, 1e-4, -1e-7, 3.140625, 1e30, -1e-30, 1234.5678]
    tensors = {
        "f32.matrix": (torch.arange(12, dtype=torch.float32).reshape(3, 4) * 0.5 - 1.25),
        "f16.matrix": torch.tensor(special[:10], dtype=torch.float32).reshape(2, 5).to(torch.float16),
        "bf16.matrix": torch.tensor(special, dtype=torch.float32).reshape(4, 3).to(torch.bfloat16),
        "f32.scalar": torch.tensor(7.25, dtype=torch.float32),
        "bf16.vector": (torch.linspace(-3, 3, 7)).to(torch.bfloat16),
        "i64.ids": torch.tensor([1, -2, 3], dtype=torch.int64),
        "f16.empty": torch.zeros(0, 4, dtype=torch.float16),
        "f16.rows": (torch.arange(64 * 8, dtype=torch.float32).reshape(64, 8) / 7).to(torch.float16),
    }
    save_file(tensors, os.path.join(folder, "single", "model.safetensors"), metadata={"format": "pt"})
    shard_of = {"f32.matrix": 1, "f16.matrix": 1, "bf16.matrix": 2, "f32.scalar": 2, "bf16.vector": 1, "f16.rows": 2}
    weight_map = {}
    for shard in (1, 2):
        name = f"model-0000{shard}-of-00002.safetensors"
        save_file({k: v for k, v in tensors.items() if shard_of.get(k) == shard}, os.path.join(folder, "sharded", name), metadata={"format": "pt"})
        weight_map.update({k: name for k, s in shard_of.items() if s == shard})
    json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map}, open(os.path.join(folder, "sharded", "model.safetensors.index.json"), "w"), indent=2)
    import math

    def finite_or_name(x):
        # JSON has no infinity; name it (the C# test parses "inf"/"-inf"/"nan").
        return x if math.isfinite(x) else str(x)

    values = {k: {"dtype": str(v.dtype), "shape": list(v.shape),
                  "values": [finite_or_name(x) for x in v.float().flatten().tolist()] if v.is_floating_point() else v.flatten().tolist()}
              for k, v in tensors.items()}
    json.dump(values, open(os.path.join(folder, "values.json"), "w"), indent=1)
    with tarfile.open(os.path.join(OUT, "safetensors.tgz"), "w:gz") as tar:
        tar.add(folder, arcname="safetensors")
    import shutil
    shutil.rmtree(folder)
    log("safetensors: written")


if __name__ == "__main__":
    for part in (run_tokenizers, run_templates, run_rope, run_safetensors):
        try:
            part()
        except Exception:
            log(f"{part.__name__} failed:\n" + traceback.format_exc())
    with open(os.path.join(OUT, "log.txt"), "w") as f:
        f.write("\n".join(LOG))

"""Export to a Hugging Face Llama folder and load it back.

Weights are written in float16 as safetensors shards of at most 15 MiB of tensor
data each (model-0000i-of-0000n.safetensors) plus model.safetensors.index.json.
With tied embeddings lm_head.weight is not stored (HF ties it to
model.embed_tokens.weight, as it does for other tied Llama checkpoints).
"""

import json
import os

import torch

from model import LlamaConfig, LlamaForCausalLM
from tok import BOS, EOS, IM_END, PAD

SHARD_LIMIT = 15 * 1024 * 1024


def hf_config(cfg, dtype="float16"):
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "vocab_size": cfg.vocab_size,
        "hidden_size": cfg.hidden_size,
        "intermediate_size": cfg.intermediate_size,
        "num_hidden_layers": cfg.num_hidden_layers,
        "num_attention_heads": cfg.num_attention_heads,
        "num_key_value_heads": cfg.num_key_value_heads,
        "head_dim": cfg.head_dim,
        "hidden_act": "silu",
        "max_position_embeddings": cfg.max_position_embeddings,
        "rms_norm_eps": cfg.rms_norm_eps,
        "rope_theta": cfg.rope_theta,
        "rope_scaling": None,
        "attention_bias": False,
        "attention_dropout": 0.0,
        "mlp_bias": False,
        "pretraining_tp": 1,
        "initializer_range": cfg.initializer_range,
        "tie_word_embeddings": cfg.tie_word_embeddings,
        "bos_token_id": BOS,
        "eos_token_id": EOS,
        "pad_token_id": PAD,
        "use_cache": True,
        "torch_dtype": dtype,
    }


def generation_config(temperature, top_k, max_len):
    return {
        "bos_token_id": BOS,
        "eos_token_id": [IM_END, EOS],
        "pad_token_id": PAD,
        "do_sample": True,
        "temperature": temperature,
        "top_k": top_k,
        "top_p": 1.0,
        "max_length": max_len,
    }


def export_weights(model, out_dir, dtype=torch.float16):
    from safetensors.torch import save_file

    sd = model.state_dict()
    if model.cfg.tie_word_embeddings:
        sd.pop("lm_head.weight")
    names = list(sd.keys())  # module order: embeddings, layers 0..n-1, final norm
    shards, cur, cur_size = [], [], 0
    for n in names:
        size = sd[n].numel() * torch.finfo(dtype).bits // 8
        if cur and cur_size + size > SHARD_LIMIT:
            shards.append(cur)
            cur, cur_size = [], 0
        cur.append(n)
        cur_size += size
    shards.append(cur)
    weight_map, total = {}, 0
    files = []
    for i, group in enumerate(shards):
        fn = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        tensors = {n: sd[n].detach().to("cpu", dtype).contiguous().clone() for n in group}
        save_file(tensors, os.path.join(out_dir, fn), metadata={"format": "pt"})
        for n, t in tensors.items():
            weight_map[n] = fn
            total += t.numel() * t.element_size()
        files.append(fn)
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    with open(os.path.join(out_dir, "model.safetensors.index.json"), "w") as f:
        json.dump(index, f, indent=2)
        f.write("\n")
    return files


def read_safetensors(path):
    """Minimal safetensors reader (F16/BF16/F32) for machines without the library:
    8-byte little-endian header length, JSON header, then the raw tensor bytes."""
    import struct
    import numpy as np
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        buf = raw[8 + n + a:8 + n + b]
        if info["dtype"] == "F16":
            t = torch.from_numpy(np.frombuffer(buf, dtype=np.float16).copy())
        elif info["dtype"] == "F32":
            t = torch.from_numpy(np.frombuffer(buf, dtype=np.float32).copy())
        elif info["dtype"] == "BF16":
            t = torch.from_numpy(np.frombuffer(buf, dtype=np.int16).copy()).view(torch.bfloat16)
        else:
            raise ValueError(info["dtype"])
        out[name] = t.reshape(info["shape"])
    return out


def load_hf_folder(folder, device="cpu", dtype=torch.float32):
    """Load config.json + shards into our model (weights cast to `dtype`)."""
    try:
        from safetensors.torch import load_file
    except ImportError:
        load_file = read_safetensors

    hc = json.load(open(os.path.join(folder, "config.json")))
    cfg = LlamaConfig(**{k: hc[k] for k in LlamaConfig().to_dict() if k in hc})
    model = LlamaForCausalLM(cfg)
    index = json.load(open(os.path.join(folder, "model.safetensors.index.json")))
    sd = {}
    for fn in sorted(set(index["weight_map"].values())):
        sd.update(load_file(os.path.join(folder, fn)))
    if cfg.tie_word_embeddings:
        sd["lm_head.weight"] = sd["model.embed_tokens.weight"]
    missing, unexpected = model.load_state_dict({k: v.to(dtype) for k, v in sd.items()}, strict=False)
    assert not unexpected and not [m for m in missing if not m.startswith("rope_")], (missing, unexpected)
    return model.to(device=device, dtype=dtype).eval()

#!/usr/bin/python3
"""An independent reference for the Java engine: the Llama forward pass written out in plain PyTorch
(no transformers), computed in float64, and the golden fixtures it writes.

Each case is a tiny random checkpoint in Hugging Face layout (config.json plus safetensors written by
this script's own writer) together with expected.json (token ids, attention mask, labels, loss, a greedy
continuation) and expected.safetensors (logits). The Java GoldenModelTest loads the checkpoint through
the product's reader and compares.

Run:     /usr/bin/python3 tools/reference/llama_reference.py     (Debian: apt install python3-torch)
Writes:  shared-libs/llama/src/test/resources/golden/<case>/
"""
import json
import math
import pathlib
import struct

import torch

OUT = pathlib.Path(__file__).resolve().parents[2] / "shared-libs/llama/src/test/resources/golden"
FIXTURE_VERSION = 1

# ---------------------------------------------------------------- safetensors, written by hand

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64}


def tensor_bytes(t, dtype):
    t = t.to(DTYPES[dtype]).contiguous()
    if dtype == "BF16":
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def write_safetensors(path, tensors, metadata=None):
    """tensors: {name: (tensor, dtype)}; little-endian, header padded to 8 bytes."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        t, dtype = tensors[name]
        data = tensor_bytes(t, dtype)
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


# ---------------------------------------------------------------- the model

def rms_norm(x, w, eps):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def inv_freq(cfg):
    d = cfg["head_dim"]
    inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
    rs = cfg.get("rope_scaling")
    if rs and rs["rope_type"] == "llama3":
        factor, low, high, old = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"], rs["original_max_position_embeddings"]
        wavelen = 2 * math.pi / inv
        scaled = torch.where(wavelen > old / low, inv / factor, inv)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = (wavelen >= old / high) & (wavelen <= old / low)
        inv = torch.where(medium, smoothed, scaled)
    return inv


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def forward(cfg, W, ids, mask):
    """ids, mask: (B, T) int tensors. Returns logits (B, T, V) in the weights' precision."""
    B, T = ids.shape
    H, Hkv, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    eps = cfg["rms_norm_eps"]
    x = W["model.embed_tokens.weight"][ids]
    pos = torch.arange(T, dtype=torch.float64)
    freqs = torch.outer(pos, inv_freq(cfg))
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)               # (T, hd)
    causal = torch.arange(T)[None, :] <= torch.arange(T)[:, None]         # (Tq, Tk)
    window = cfg.get("sliding_window") or 0
    if window:
        causal &= (torch.arange(T)[:, None] - torch.arange(T)[None, :]) < window
    allowed = causal[None, :, :] & (mask[:, None, :] == 1)                # (B, Tq, Tk)

    def linear(x, name):
        y = x @ W[name + ".weight"].T
        if name + ".bias" in W:
            y = y + W[name + ".bias"]
        return y

    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = rms_norm(x, W[p + "input_layernorm.weight"], eps)
        q = linear(h, p + "self_attn.q_proj").view(B, T, H, hd).transpose(1, 2)
        k = linear(h, p + "self_attn.k_proj").view(B, T, Hkv, hd).transpose(1, 2)
        v = linear(h, p + "self_attn.v_proj").view(B, T, Hkv, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(H // Hkv, dim=1)                         # (B, H, T, hd)
        v = v.repeat_interleave(H // Hkv, dim=1)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        scores = scores.masked_fill(~allowed[:, None, :, :], torch.finfo(scores.dtype).min)
        attn = torch.softmax(scores, dim=-1) @ v                          # (B, H, T, hd)
        x = x + linear(attn.transpose(1, 2).reshape(B, T, H * hd), p + "self_attn.o_proj")
        h = rms_norm(x, W[p + "post_attention_layernorm.weight"], eps)
        a = torch.nn.functional.silu(linear(h, p + "mlp.gate_proj")) * linear(h, p + "mlp.up_proj")
        x = x + linear(a, p + "mlp.down_proj")
    x = rms_norm(x, W["model.norm.weight"], eps)
    head = W["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else W["lm_head.weight"]
    return x @ head.T


def loss_of(logits, labels):
    """Mean cross-entropy of position t predicting labels[t+1], ignoring -100 (transformers' convention)."""
    shift_logits = logits[:, :-1, :].reshape(-1, logits.shape[-1])
    shift_labels = labels[:, 1:].reshape(-1)
    return torch.nn.functional.cross_entropy(shift_logits, shift_labels, ignore_index=-100, reduction="mean")


def greedy(cfg, W, prompt, n):
    """Greedy continuation recomputing the whole sequence each step (no cache)."""
    ids = list(prompt)
    for _ in range(n):
        t = torch.tensor([ids])
        ids.append(int(forward(cfg, W, t, torch.ones_like(t))[0, -1].argmax()))
    return ids[len(prompt):]


# ---------------------------------------------------------------- weights and cases

def shapes(cfg):
    d, f, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    q, kv = cfg["num_attention_heads"] * cfg["head_dim"], cfg["num_key_value_heads"] * cfg["head_dim"]
    qkv_bias = cfg["model_type"] == "qwen2" or cfg.get("attention_bias", False)
    o_bias = cfg["model_type"] == "llama" and cfg.get("attention_bias", False)
    s = {"model.embed_tokens.weight": (V, d)}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        s[p + "input_layernorm.weight"] = (d,)
        for name, out, inp, bias in [("q_proj", q, d, qkv_bias), ("k_proj", kv, d, qkv_bias),
                                     ("v_proj", kv, d, qkv_bias), ("o_proj", d, q, o_bias)]:
            s[p + "self_attn." + name + ".weight"] = (out, inp)
            if bias:
                s[p + "self_attn." + name + ".bias"] = (out,)
        s[p + "post_attention_layernorm.weight"] = (d,)
        for name, out, inp in [("gate_proj", f, d), ("up_proj", f, d), ("down_proj", d, f)]:
            s[p + "mlp." + name + ".weight"] = (out, inp)
    s["model.norm.weight"] = (d,)
    if not cfg["tie_word_embeddings"]:
        s["lm_head.weight"] = (V, d)
    return s


def random_weights(cfg, gen, dtype):
    """Weights large enough that attention is far from uniform and every path matters; rounded to the
    storage dtype so the reference computes with exactly the values the file holds."""
    W = {}
    for name, shape in shapes(cfg).items():
        if name.endswith("norm.weight"):
            t = 1.0 + 0.2 * torch.randn(shape, generator=gen, dtype=torch.float64)
        elif name.endswith(".bias"):
            t = 0.3 * torch.randn(shape, generator=gen, dtype=torch.float64)
        else:
            t = torch.randn(shape, generator=gen, dtype=torch.float64) / math.sqrt(shape[-1]) * 1.5
        W[name] = t.to(DTYPES[dtype]).to(torch.float64)
    return W


def base_config(arch, model_type, **over):
    cfg = {
        "architectures": [arch], "model_type": model_type, "vocab_size": 96, "hidden_size": 32,
        "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
        "head_dim": 8, "hidden_act": "silu", "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "rope_scaling": None,
        "max_position_embeddings": 256, "tie_word_embeddings": False, "bos_token_id": 1, "eos_token_id": 2,
        "torch_dtype": "float32",
    }
    cfg.update(over)
    return cfg


CASES = [
    # name, config, storage dtype, shards
    ("llama-gqa-f32", base_config("LlamaForCausalLM", "llama"), "F32", 1),
    ("llama3-rope-tied-headdim-bf16", base_config(
        "LlamaForCausalLM", "llama", hidden_size=48, num_attention_heads=3, num_key_value_heads=1, head_dim=20,
        tie_word_embeddings=True, rope_theta=500000.0, torch_dtype="bfloat16",
        rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                      "original_max_position_embeddings": 16}), "BF16", 1),
    ("qwen2-bias-sharded-f16", base_config(
        "Qwen2ForCausalLM", "qwen2", num_key_value_heads=1, torch_dtype="float16", use_sliding_window=False), "F16", 3),
    ("llama-attention-bias-f32", base_config(
        "LlamaForCausalLM", "llama", attention_bias=True, num_key_value_heads=4), "F32", 1),
    ("mistral-sliding-window-f32", base_config(
        "MistralForCausalLM", "mistral", sliding_window=3), "F32", 1),
]


def write_case(name, cfg, dtype, shards, seed):
    gen = torch.Generator().manual_seed(seed)
    W = random_weights(cfg, gen, dtype)
    d = OUT / name
    d.mkdir(parents=True, exist_ok=True)
    for old in d.glob("*.safetensors*"):
        old.unlink()
    (d / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    tensors = {n: (t, dtype) for n, t in W.items()}
    if shards == 1:
        write_safetensors(d / "model.safetensors", tensors, {"format": "pt"})
    else:
        names = sorted(tensors)
        per = math.ceil(len(names) / shards)
        weight_map = {}
        for s in range(shards):
            fname = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
            part = {n: tensors[n] for n in names[s * per:(s + 1) * per]}
            write_safetensors(d / fname, part, {"format": "pt"})
            weight_map.update({n: fname for n in part})
        (d / "model.safetensors.index.json").write_text(
            json.dumps({"metadata": {"total_size": 0}, "weight_map": weight_map}, indent=2) + "\n")

    V, T = cfg["vocab_size"], 9
    ids = torch.randint(0, V, (3, T), generator=gen)
    mask = torch.ones(3, T, dtype=torch.long)
    mask[1, 6:] = 0                       # right padding
    mask[2, 4:] = 0
    ids[mask == 0] = 0
    labels = ids.clone()
    labels[mask == 0] = -100
    labels[0, :3] = -100                  # a masked prompt
    logits = forward(cfg, W, ids, mask)
    loss = loss_of(logits, labels)
    prompt = ids[0, :5].tolist()
    continuation = greedy(cfg, W, prompt, 6)
    write_safetensors(d / "expected.safetensors", {"logits": (logits, "F64")}, {"fixture_version": str(FIXTURE_VERSION)})
    (d / "expected.json").write_text(json.dumps({
        "fixture_version": FIXTURE_VERSION,
        "written_by": "tools/reference/llama_reference.py",
        "input_ids": ids.tolist(), "attention_mask": mask.tolist(), "labels": labels.tolist(),
        "loss": loss.item(), "greedy_prompt": prompt, "greedy_continuation": continuation,
    }, indent=1) + "\n")
    print(f"{name}: loss {loss.item():.6f}, max |logit| {logits.abs().max().item():.3f}")


def main():
    torch.manual_seed(0)
    for i, (name, cfg, dtype, shards) in enumerate(CASES):
        write_case(name, cfg, dtype, shards, seed=1000 + i)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Independent reference for the adapters: each method's forward written out in plain PyTorch (fp64,
autograd for gradients), and adapter files written in Hugging Face PEFT's on-disk format.

For every case it writes, under shared-libs/adapters/src/test/resources/golden-adapters/:
  base/                  a tiny Llama checkpoint (shared by all cases)
  <case>/adapter_config.json, adapter_model.safetensors   the adapter, as PEFT would save it
  <case>/expected.json         batch, loss
  <case>/expected.safetensors  the gradient of the mean loss for every adapter tensor (F64)
and nola-basis.safetensors: the first NOLA bases of one module, to check the generator bit for bit.

Run: /usr/bin/python3 tools/reference/adapters_reference.py
"""
import json
import math
import pathlib

import torch

from llama_reference import base_config, random_weights, rms_norm, inv_freq, rotate_half, write_safetensors, loss_of

OUT = pathlib.Path(__file__).resolve().parents[2] / "shared-libs/adapters/src/test/resources/golden-adapters"
MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
MASK64 = (1 << 64) - 1


# ---------------------------------------------------------------- NOLA's basis generator (docs/nola.md)

def fnv1a64(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & MASK64
    return h


class NolaBasis:
    def __init__(self, basis_seed: int, module: str):
        self.state = (basis_seed & MASK64) ^ fnv1a64(module.encode("utf-8"))

    def next(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def take(self, shape, fan_in):
        n = math.prod(shape)
        u = torch.tensor([(self.next() >> 40) for _ in range(n)], dtype=torch.float64) * 2.0 ** -24
        u = u.to(torch.float32)                                       # exact: 24-bit integers times 2^-24
        bound = torch.tensor(1.0 / math.sqrt(fan_in), dtype=torch.float32)
        return ((2 * u - 1) * bound).reshape(shape)                   # float32: one rounding, in the multiply


# ---------------------------------------------------------------- a model with adapters, in fp64

def dims(cfg, module):
    d, f = cfg["hidden_size"], cfg["intermediate_size"]
    q, kv = cfg["num_attention_heads"] * cfg["head_dim"], cfg["num_key_value_heads"] * cfg["head_dim"]
    return {"q_proj": (d, q), "k_proj": (d, kv), "v_proj": (d, kv), "o_proj": (q, d),
            "gate_proj": (d, f), "up_proj": (d, f), "down_proj": (f, d)}[module]


def path_of(layer, module):
    block = "mlp" if module in ("gate_proj", "up_proj", "down_proj") else "self_attn"
    return f"model.layers.{layer}.{block}.{module}"


def adapted_linear(x, W, bias, ad):
    """x (B, T, in) through the base weight W (out, in) and the module's adapter (or None)."""
    y = x @ W.T
    if bias is not None:
        y = y + bias
    if ad is None:
        return y
    kind, s, p = ad["kind"], ad["scaling"], ad["params"]
    if kind == "lora":
        return y + s * (x @ p["lora_A"].T) @ p["lora_B"].T
    if kind == "dora":
        # PEFT: the norm of W + s·B·A is detached; result = base + (g − 1)·(W x) + g·s·B A x
        lora_weight = p["lora_B"] @ p["lora_A"]
        norm = (W + s * lora_weight).norm(p=2, dim=1).detach()
        g = p["lora_magnitude_vector"] / norm
        return y + (g - 1) * (x @ W.T) + g * (s * (x @ p["lora_A"].T) @ p["lora_B"].T)
    if kind == "nola":
        A = ad["a0"] + torch.einsum("k,kri->ri", p["nola_alpha"], ad["a_bases"])
        B = torch.einsum("l,lor->or", p["nola_beta"], ad["b_bases"])
        return y + s * (x @ A.T) @ B.T
    if kind == "lokr":
        w1 = p["lokr_w1"] if "lokr_w1" in p else p["lokr_w1_a"] @ p["lokr_w1_b"]
        w2 = p["lokr_w2"] if "lokr_w2" in p else p["lokr_w2_a"] @ p["lokr_w2_b"]
        return y + x @ (s * torch.kron(w1, w2)).T
    raise ValueError(kind)


def forward(cfg, W, adapters, ids, mask, hidden=None):
    """Logits (B, T, V); with a list as `hidden`, each decoder layer's output (B, T, D) is appended to it."""
    B, T = ids.shape
    H, Hkv, hd, eps = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"], cfg["rms_norm_eps"]
    x = W["model.embed_tokens.weight"][ids]
    freqs = torch.outer(torch.arange(T, dtype=torch.float64), inv_freq(cfg))
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
    allowed = (torch.arange(T)[None, :] <= torch.arange(T)[:, None])[None] & (mask[:, None, :] == 1)

    def lin(h, layer, module):
        name = path_of(layer, module)
        return adapted_linear(h, W[name + ".weight"], W.get(name + ".bias"), adapters.get(name))

    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = rms_norm(x, W[p + "input_layernorm.weight"], eps)
        q = lin(h, i, "q_proj").view(B, T, H, hd).transpose(1, 2)
        k = lin(h, i, "k_proj").view(B, T, Hkv, hd).transpose(1, 2)
        v = lin(h, i, "v_proj").view(B, T, Hkv, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = (k * cos + rotate_half(k) * sin).repeat_interleave(H // Hkv, dim=1)
        v = v.repeat_interleave(H // Hkv, dim=1)
        scores = ((q @ k.transpose(-1, -2)) / math.sqrt(hd)).masked_fill(~allowed[:, None], torch.finfo(x.dtype).min)
        attn = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(B, T, H * hd)
        x = x + lin(attn, i, "o_proj")
        h = rms_norm(x, W[p + "post_attention_layernorm.weight"], eps)
        x = x + lin(torch.nn.functional.silu(lin(h, i, "gate_proj")) * lin(h, i, "up_proj"), i, "down_proj")
        if hidden is not None:
            hidden.append(x)
    x = rms_norm(x, W["model.norm.weight"], eps)
    return x @ (W["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else W["lm_head.weight"]).T


# ---------------------------------------------------------------- cases

def factorization(dimension, factor=-1):
    """PEFT's LoKr factorization rule (see Kronecker.java)."""
    if factor > 0 and dimension % factor == 0:
        return factor, dimension // factor
    limit = dimension if factor == -1 else factor
    m, n = 1, dimension
    while m < n:
        new_m = m + 1
        while dimension % new_m != 0:
            new_m += 1
        new_n = dimension // new_m
        if new_m + new_n > m + n or new_m > limit:
            break
        m, n = new_m, new_n
    return (n, m) if m > n else (m, n)


CASES = {
    # name: (kind, config extras, targets, rank, alpha, options)
    "lora": ("lora", ["q_proj", "v_proj", "down_proj"], 4, 8.0, {"rank_pattern": {"down_proj": 2}, "alpha_pattern": {"v_proj": 3.0}}),
    "rslora": ("lora", ["q_proj", "k_proj", "o_proj", "up_proj"], 4, 6.0, {"use_rslora": True}),
    "dora": ("dora", MODULES, 3, 5.0, {}),
    "nola": ("nola", ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj"], 2, 4.0, {"k": 5, "l": 6, "seed": 12345}),
    "lokr": ("lokr", ["o_proj", "gate_proj", "up_proj", "down_proj"], 8, 8.0, {}),
    "lokr-decomposed": ("lokr", ["q_proj", "gate_proj", "down_proj"], 1, 2.0, {"decompose_both": True}),
}


def make_adapter(cfg, kind, targets, rank, alpha, opts, gen):
    adapters, files = {}, {}
    for layer in range(cfg["num_hidden_layers"]):
        for module in targets:
            name = path_of(layer, module)
            fin, fout = dims(cfg, module)
            r = opts.get("rank_pattern", {}).get(module, rank)
            a = opts.get("alpha_pattern", {}).get(module, alpha)
            s = a / math.sqrt(r) if opts.get("use_rslora") else a / r

            def rnd(*shape):  # rounded to float32: the file stores F32
                return (torch.randn(shape, generator=gen, dtype=torch.float64) * 0.3).float().double().requires_grad_()

            if kind in ("lora", "dora"):
                p = {"lora_A": rnd(r, fin), "lora_B": rnd(fout, r)}
                if kind == "dora":
                    p["lora_magnitude_vector"] = (1 + torch.rand(fout, generator=gen, dtype=torch.float64)).float().double().requires_grad_()
                adapters[name] = {"kind": kind, "scaling": s, "params": p}
                files.update({f"base_model.model.{name}.{t}" + (".weight" if t in ("lora_A", "lora_B") else ""): v for t, v in p.items()})
            elif kind == "nola":
                basis = NolaBasis(opts["seed"], name)
                a0 = basis.take((r, fin), fin).double()
                a_bases = basis.take((opts["k"], r, fin), fin).double()
                b_bases = basis.take((opts["l"], fout, r), r).double()
                p = {"nola_alpha": rnd(opts["k"]), "nola_beta": rnd(opts["l"])}
                adapters[name] = {"kind": "nola", "scaling": s, "params": p, "a0": a0, "a_bases": a_bases, "b_bases": b_bases}
                files.update({f"base_model.model.{name}.{t}": v for t, v in p.items()})
            else:
                (a_, c_), (b_, d_) = factorization(fout), factorization(fin)
                use_w1 = not (opts.get("decompose_both") and r < max(a_, b_) / 2)
                use_w2 = not (r < max(c_, d_) / 2)
                p = {}
                if use_w1:
                    p["lokr_w1"] = rnd(a_, b_)
                else:
                    p["lokr_w1_a"], p["lokr_w1_b"] = rnd(a_, r), rnd(r, b_)
                if use_w2:
                    p["lokr_w2"] = rnd(c_, d_)
                else:
                    p["lokr_w2_a"], p["lokr_w2_b"] = rnd(c_, r), rnd(r, d_)
                adapters[name] = {"kind": "lokr", "scaling": alpha / r, "params": p}
                files.update({f"base_model.model.{name}.{t}": v for t, v in p.items()})
    return adapters, files


def adapter_config(kind, targets, rank, alpha, opts):
    common = {"base_model_name_or_path": "base", "task_type": "CAUSAL_LM", "inference_mode": True, "target_modules": targets,
              "r": rank, "rank_pattern": opts.get("rank_pattern", {}), "alpha_pattern": opts.get("alpha_pattern", {}),
              "modules_to_save": None, "layers_to_transform": None, "layers_pattern": None, "revision": None}
    if kind == "lokr":
        return {**common, "peft_type": "LOKR", "alpha": alpha, "rank_dropout": 0.0, "module_dropout": 0.0,
                "decompose_both": opts.get("decompose_both", False), "decompose_factor": -1,
                "use_effective_conv2d": False, "init_weights": True, "rank_dropout_scale": False}
    c = {**common, "peft_type": "LORA", "lora_alpha": alpha, "lora_dropout": 0.0, "bias": "none", "fan_in_fan_out": False,
         "use_rslora": opts.get("use_rslora", False), "use_dora": kind == "dora", "init_lora_weights": True}
    if kind == "nola":
        c.update(peft_type="NOLA", num_basis_a=opts["k"], num_basis_b=opts["l"], basis_seed=opts["seed"],
                 basis_generator="splitmix64-uniform-v1")
    return c


def main():
    torch.manual_seed(0)
    cfg = base_config("LlamaForCausalLM", "llama")
    gen = torch.Generator().manual_seed(2024)
    W = random_weights(cfg, gen, "F32")
    (OUT / "base").mkdir(parents=True, exist_ok=True)
    (OUT / "base" / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    write_safetensors(OUT / "base" / "model.safetensors", {n: (t, "F32") for n, t in W.items()}, {"format": "pt"})

    ids = torch.randint(0, cfg["vocab_size"], (2, 7), generator=gen)
    mask = torch.ones_like(ids)
    mask[1, 5:] = 0
    ids[mask == 0] = 0
    labels = ids.clone()
    labels[mask == 0] = -100
    labels[0, :2] = -100

    for name, (kind, targets, rank, alpha, opts) in CASES.items():
        adapters, files = make_adapter(cfg, kind, targets, rank, alpha, opts, gen)
        loss = loss_of(forward(cfg, W, adapters, ids, mask), labels)
        loss.backward()
        d = OUT / name
        d.mkdir(parents=True, exist_ok=True)
        (d / "adapter_config.json").write_text(json.dumps(adapter_config(kind, targets, rank, alpha, opts), indent=2) + "\n")
        write_safetensors(d / "adapter_model.safetensors", {k: (v.detach(), "F32") for k, v in files.items()}, {"format": "pt"})
        write_safetensors(d / "expected.safetensors", {k: (v.grad, "F64") for k, v in files.items()}, {"fixture_version": "1"})
        (d / "expected.json").write_text(json.dumps({
            "fixture_version": 1, "written_by": "tools/reference/adapters_reference.py",
            "input_ids": ids.tolist(), "attention_mask": mask.tolist(), "labels": labels.tolist(), "loss": loss.item(),
        }, indent=1) + "\n")
        print(f"{name}: loss {loss.item():.6f}, {len(files)} tensors")

    basis = NolaBasis(12345, "model.layers.0.self_attn.q_proj")
    a0 = basis.take((2, cfg["hidden_size"]), cfg["hidden_size"])
    write_safetensors(OUT / "nola-basis.safetensors", {"a0": (a0, "F32")},
                      {"basis_seed": "12345", "module": "model.layers.0.self_attn.q_proj"})


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Independent reference for whole-model merges from mergekit's YAML (docs/merging.md), plain PyTorch, fp64.

Writes small random Llama checkpoints (a base, three fine-tunes sharing a common direction, one nearly
parallel to the base, a LoRA adapter of the base), a mergekit configuration per case, and the tensors each
merge must produce, computed here from mergekit's definitions (mergekit/merge_methods/*.py, sparsify.py,
config.py's evaluate_setting and plan.py's layer fraction t = i / (n - 1)) — not from the Java code — in
fp64 over the fp32 inputs. Under shared-libs/merging/src/test/resources/golden-mergekit/:
  models/<name>/               config.json, model.safetensors (F32); models/lora/ a PEFT LoRA adapter
  cases/<case>.yml             the configuration, model paths relative to models/
  expected/<case>.safetensors  every output tensor (F64)
  cases.json                   per case: output layer count, seed

Two deliberate readings where mergekit's code and its intent differ (docs/merging.md says so too):
breadcrumbs keeps ranks [n_bot, n - n_top) also when n_top = 0 (mergekit's `indices[n_bot:-0]` keeps
nothing), and DARE's and DELLA's random draws come from the project's seeded stream (SplitMix64 from
seed XOR FNV-1a-64("<tensor>#<i>"), u = (z >> 40) * 2^-24, keep where u < p) instead of torch.bernoulli.

Run: /usr/bin/python3 tools/reference/mergekit_reference.py
"""
import json
import math
import pathlib

import torch

from adapters_reference import NolaBasis, MASK64, fnv1a64
from llama_reference import write_safetensors, shapes

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "shared-libs/merging/src/test/resources/golden-mergekit"

CFG = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 16, "hidden_size": 8,
    "intermediate_size": 12, "num_hidden_layers": 3, "num_attention_heads": 2, "num_key_value_heads": 1,
    "head_dim": 4, "hidden_act": "silu", "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "rope_scaling": None,
    "max_position_embeddings": 64, "tie_word_embeddings": False, "bos_token_id": 1, "eos_token_id": 2,
    "torch_dtype": "float32",
}
SEED = 5

CASES = {
    "linear": """
merge_method: linear
models:
  - model: a
    parameters: {weight: 0.5}
  - model: b
    parameters:
      weight: [0.2, 0.8]
  - model: c
    parameters:
      weight:
        - filter: self_attn
          value: 0.1
        - value: 0.3
""",
    "task-arithmetic": """
merge_method: task_arithmetic
base_model: base
models:
  - model: a
    parameters: {weight: 0.7}
  - model: b
    parameters: {weight: [1.0, 0.0, -0.5]}
parameters:
  lambda: 0.9
""",
    "ties": """
merge_method: ties
base_model: base
models:
  - model: base
  - model: a
    parameters: {weight: 1.0, density: 0.5}
  - model: b
    parameters: {weight: 0.6, density: 0.7}
  - model: c
    parameters: {weight: 0.8, density: [0.3, 0.9]}
parameters:
  int8_mask: true
""",
    "dare-ties": """
merge_method: dare_ties
base_model: base
models:
  - model: a
    parameters: {weight: 1.0, density: 0.6}
  - model: b
    parameters: {weight: 0.5, density: 0.4}
  - model: c
    parameters: {weight: 0.7, density: 0.5}
""",
    "dare-linear": """
merge_method: dare_linear
base_model: base
models:
  - model: a
    parameters: {weight: 0.6}
  - model: b
    parameters: {weight: 0.4}
parameters:
  density: 0.5
  rescale: false
  normalize: true
""",
    "breadcrumbs": """
merge_method: breadcrumbs
base_model: base
models:
  - model: a
    parameters: {weight: 1.0, density: 0.8, gamma: 0.05}
  - model: b
    parameters: {weight: 0.5, density: 0.9}
""",
    "breadcrumbs-ties": """
merge_method: breadcrumbs_ties
base_model: base
models:
  - model: a
    parameters: {weight: 1.0}
  - model: b
    parameters: {weight: 0.8}
  - model: c
    parameters: {weight: 0.6}
parameters:
  density: 0.7
  gamma: 0.1
""",
    "della": """
merge_method: della
base_model: base
models:
  - model: a
    parameters: {weight: 1.0, density: 0.5, epsilon: 0.2}
  - model: b
    parameters: {weight: 0.7, density: 0.6}
  - model: c
    parameters: {weight: 0.5, density: 0.4, epsilon: 0.3}
""",
    "della-linear": """
merge_method: della_linear
base_model: base
models:
  - model: a
    parameters: {weight: 0.6, density: 0.6, epsilon: 0.1}
  - model: b
    parameters: {weight: 0.4, density: 0.5, epsilon: 0.1}
parameters:
  lambda: 1.1
""",
    "slerp": """
merge_method: slerp
base_model: base
models:
  - model: base
  - model: a
parameters:
  t:
    - filter: self_attn
      value: [0, 0.5, 0.3, 0.7, 1]
    - filter: mlp
      value: [1, 0.5, 0.7, 0.3, 0]
    - value: 0.5
dtype: float64
""",
    "slerp-parallel": """
merge_method: slerp
base_model: base
models:
  - model: d
parameters:
  t: 0.3
""",
    "nuslerp": """
merge_method: nuslerp
models:
  - model: a
    parameters: {weight: 0.3}
  - model: b
    parameters: {weight: 0.7}
""",
    "nuslerp-row-wise": """
merge_method: nuslerp
base_model: base
models:
  - model: a
    parameters: {weight: 1.0}
  - model: c
    parameters: {weight: [1.0, 3.0]}
parameters:
  nuslerp_flatten: false
  nuslerp_row_wise: true
""",
    "nuslerp-per-row": """
merge_method: nuslerp
models:
  - model: b
    parameters: {weight: 2.0}
  - model: c
    parameters: {weight: 1.0}
parameters:
  nuslerp_flatten: false
""",
    "model-stock": """
merge_method: model_stock
base_model: base
models:
  - model: a
  - model: b
  - model: c
""",
    "model-stock-filter-wise": """
merge_method: model_stock
base_model: base
models:
  - model: a
  - model: b
  - model: c
parameters:
  filter_wise: true
""",
    "passthrough": """
merge_method: passthrough
slices:
  - sources:
      - model: a
        layer_range: [0, 2]
  - sources:
      - model: b
        layer_range: [1, 3]
        parameters:
          scale:
            - filter: o_proj
              value: 0.5
            - filter: down_proj
              value: 0.5
            - value: 1.0
dtype: bfloat16
""",
    "ties-slices": """
merge_method: ties
base_model: base
slices:
  - sources:
      - model: base
        layer_range: [0, 2]
      - model: a
        layer_range: [0, 2]
        parameters: {weight: 1.0}
      - model: b
        layer_range: [1, 3]
        parameters: {weight: [0.4, 0.9]}
    parameters:
      density: 0.6
  - sources:
      - model: base
        layer_range: [2, 3]
      - model: c
        layer_range: [2, 3]
        parameters: {weight: 1.0, density: 0.5}
""",
    "task-arithmetic-folded": """
merge_method: task_arithmetic
base_model: base
models:
  - model: base+lora
    parameters: {weight: 1.0}
  - model: b
    parameters: {weight: 0.5}
""",
}

# ---------------------------------------------------------------- the inputs


def make_models():
    gen = torch.Generator().manual_seed(2025)
    names = shapes(CFG)
    base = {}
    for n, s in names.items():
        if n.endswith("norm.weight"):
            base[n] = 1.0 + 0.2 * torch.randn(s, generator=gen, dtype=torch.float64)
        else:
            base[n] = torch.randn(s, generator=gen, dtype=torch.float64) / math.sqrt(s[-1])
    shared = {n: torch.randn(t.shape, generator=gen, dtype=torch.float64) for n, t in base.items()}
    models = {"base": base}
    for m in ["a", "b", "c"]:
        models[m] = {n: t + 0.05 * (shared[n] + torch.randn(t.shape, generator=gen, dtype=torch.float64))
                     for n, t in base.items()}
    models["d"] = {n: t * 1.0002 + 1e-5 * torch.randn(t.shape, generator=gen, dtype=torch.float64) for n, t in base.items()}
    # the files hold fp32; the reference computes with exactly those values
    return {m: {n: t.float().double() for n, t in w.items()} for m, w in models.items()}, gen


def write_models(models, gen):
    for m, w in models.items():
        d = OUT / "models" / m
        d.mkdir(parents=True, exist_ok=True)
        (d / "config.json").write_text(json.dumps(CFG, indent=1) + "\n")
        write_safetensors(d / "model.safetensors", {n: (t, "F32") for n, t in w.items()}, {"format": "pt"})
    (OUT / "models/base/tokenizer_config.json").write_text(json.dumps({"model_max_length": 64}) + "\n")
    # a PEFT LoRA adapter of the base: r = 2, alpha = 4 on q_proj and down_proj of every layer
    d = OUT / "models/lora"
    d.mkdir(parents=True, exist_ok=True)
    r, alpha, targets = 2, 4, ["q_proj", "down_proj"]
    (d / "adapter_config.json").write_text(json.dumps({
        "peft_type": "LORA", "r": r, "lora_alpha": alpha, "target_modules": targets, "lora_dropout": 0.0,
        "bias": "none", "use_rslora": False, "use_dora": False, "fan_in_fan_out": False, "task_type": "CAUSAL_LM",
        "base_model_name_or_path": "base"}, indent=1) + "\n")
    tensors, deltas = {}, {}
    for i in range(CFG["num_hidden_layers"]):
        for t in targets:
            module = f"model.layers.{i}.{'self_attn' if t == 'q_proj' else 'mlp'}.{t}"
            out_f, in_f = models["base"][module + ".weight"].shape
            A = (0.3 * torch.randn((r, in_f), generator=gen, dtype=torch.float64)).float().double()
            B = (0.3 * torch.randn((out_f, r), generator=gen, dtype=torch.float64)).float().double()
            tensors[f"base_model.model.{module}.lora_A.weight"] = (A, "F32")
            tensors[f"base_model.model.{module}.lora_B.weight"] = (B, "F32")
            deltas[module + ".weight"] = (alpha / r) * B @ A
    write_safetensors(d / "adapter_model.safetensors", tensors, {"format": "pt"})
    # mergekit folds the adapter in the merge's dtype; here in fp64, rounded once to fp32
    models["base+lora"] = {n: (t + deltas[n]).float().double() if n in deltas else t for n, t in models["base"].items()}


# ---------------------------------------------------------------- mergekit's parameter reading


def evaluate(setting, tensor, t):
    if isinstance(setting, (bool, str)) or isinstance(setting, (int, float)):
        return float(setting) if isinstance(setting, int) and not isinstance(setting, bool) else setting
    if isinstance(setting, dict):
        setting = [setting]
    if all(isinstance(e, (int, float)) and not isinstance(e, bool) for e in setting):
        scaled = t * (len(setting) - 1)
        i0 = int(scaled)
        i1 = min(len(setting) - 1, i0 + 1)
        frac = scaled - i0
        return (1 - frac) * setting[i0] + frac * setting[i1]
    for cond in setting:
        f = cond.get("filter")
        if f is None or f == "*" or f in tensor:
            return evaluate(cond["value"], tensor, t)
    return None


def parameter(cfg, slice_def, source, name, tensor, t, default):
    levels = ([source.get("parameters") or {}] if source is not None else []) + [slice_def.get("parameters") or {},
                                                                                   cfg.get("parameters") or {}]
    for level in levels:
        if name in level:
            v = evaluate(level[name], tensor, t)
            if v is not None:
                return v
    return default


# ---------------------------------------------------------------- mergekit's methods


def stream_uniforms(tensor, index, n):
    s = NolaBasis(0, "")
    s.state = (SEED & MASK64) ^ fnv1a64(f"{tensor}#{index}".encode("utf-8"))
    return torch.tensor([(s.next() >> 40) * 2.0 ** -24 for _ in range(n)], dtype=torch.float64)


def magnitude_order(x):
    """Flat positions sorted by (float32 |x|, position): mergekit ranks magnitudes as float32."""
    mags = x.abs().flatten().float().tolist()
    return sorted(range(len(mags)), key=lambda i: (mags[i], i))


def sparsify(delta, method, density, gamma, epsilon, rescale, tensor, index):
    if method is None or density >= 1:
        return delta
    n = delta.numel()
    keep = torch.zeros(n, dtype=torch.bool)
    if method == "magnitude":
        k = int(density * n)
        keep[magnitude_order(delta)[n - k:]] = True
    elif method == "random":
        keep = stream_uniforms(tensor, index, n) < density
    elif method == "magnitude_outliers":
        target, top = int(density * n), int(gamma * n)
        bottom = n - target - top
        if bottom < 0:
            top += bottom
            bottom = 0
        keep[magnitude_order(delta)[bottom:n - top]] = True
    elif method == "della_magprune":
        rows = delta.reshape(1, -1) if delta.dim() < 2 else delta
        cols = rows.shape[1]
        probs = torch.zeros(rows.shape, dtype=torch.float64)
        for r in range(rows.shape[0]):
            order = magnitude_order(rows[r])
            ranks = torch.zeros(cols, dtype=torch.float64)
            ranks[order] = torch.arange(1, cols + 1, dtype=torch.float64)
            norm = ((ranks - ranks.min()) / (ranks.max() - ranks.min())).clamp(0, 1) if cols > 1 else torch.zeros(cols, dtype=torch.float64)
            probs[r] = (density - epsilon) + norm * 2 * epsilon
        keep = stream_uniforms(tensor, index, n) < probs.flatten()
    keep = keep.reshape(delta.shape)
    masked = torch.where(keep, delta, torch.zeros_like(delta))
    if rescale:
        before, after = delta.abs().sum(), masked.abs().sum()
        if before >= 1e-7 and after >= 1e-7:
            masked = masked * (before / after)
    return masked


GTA = {  # name: (sparsification, consensus, default normalize, default rescale)
    "task_arithmetic": (None, False, False, False), "ties": ("magnitude", True, True, False),
    "dare_ties": ("random", True, False, True), "dare_linear": ("random", False, False, True),
    "breadcrumbs": ("magnitude_outliers", False, False, False), "breadcrumbs_ties": ("magnitude_outliers", True, False, False),
    "della": ("della_magprune", True, True, True), "della_linear": ("della_magprune", False, False, True),
}


def slerp(t, v0, v1):
    n0, n1 = v0.norm(), v1.norm()
    u0 = v0 / n0 if n0 > 1e-8 else v0
    u1 = v1 / n1 if n1 > 1e-8 else v1
    dot = (u0 * u1).sum()
    if dot.abs() > 0.9995:
        return (1 - t) * v0 + t * v1
    theta0 = torch.acos(dot)
    theta_t = theta0 * t
    return torch.sin(theta0 - theta_t) / torch.sin(theta0) * v0 + torch.sin(theta_t) / torch.sin(theta0) * v1


def nuslerp(t, v0, v1, row_wise, flatten):
    shape = v0.shape
    if flatten:
        v0, v1 = v0.reshape(1, -1), v1.reshape(1, -1)
    elif v0.dim() == 1:
        v0, v1 = v0.reshape(1, -1), v1.reshape(1, -1)
    elif row_wise:
        v0, v1 = v0.t(), v1.t()
    u0 = v0 / v0.norm(dim=-1, keepdim=True).clamp(min=1e-7)
    u1 = v1 / v1.norm(dim=-1, keepdim=True).clamp(min=1e-7)
    theta = torch.acos((u0 * u1).sum(-1, keepdim=True).clamp(-1, 1))
    sin = torch.sin(theta)
    res = (torch.sin((1 - t) * theta) * v0 + torch.sin(t * theta) * v1) / sin
    colinear = (sin.abs() < 1e-8).squeeze(-1)
    res[colinear] = (1 - t) * v0[colinear] + t * v1[colinear]
    if row_wise and not flatten and len(shape) > 1:
        res = res.t()
    return res.reshape(shape)


def model_stock(w0, ws, filter_wise):
    shape = w0.shape
    if filter_wise:
        w0, ws = (w0.reshape(1, -1), [w.reshape(1, -1) for w in ws]) if w0.dim() == 1 else (w0, ws)
    else:
        w0, ws = w0.reshape(1, -1), [w.reshape(1, -1) for w in ws]
    offsets = [w - w0 for w in ws]
    cos = []
    for i in range(len(offsets)):
        for j in range(i + 1, len(offsets)):
            prod = offsets[i].norm(dim=-1) * offsets[j].norm(dim=-1)
            cos.append(((offsets[i] * offsets[j]).sum(-1) / prod.clamp(min=1e-6)).clamp(-1, 1))
    c = torch.stack(cos).mean(0).unsqueeze(-1)
    N = len(ws)
    t = N * c / (1 + (N - 1) * c)
    return (t * (sum(ws) / N) + (1 - t) * w0).reshape(shape)


def merge_tensor(cfg, slice_def, sources, tensors, out_name, in_names, t, base):
    method = cfg["merge_method"]
    g = lambda name, default: parameter(cfg, slice_def, None, name, out_name, t, default)
    p = lambda i, name, default: parameter(cfg, slice_def, sources[i], name, in_names[i], t, default)
    base_i = next((i for i, s in enumerate(sources) if s["model"] == base), None)
    if method == "linear":
        w = [p(i, "weight", None) for i in range(len(sources))]
        res = sum(wi * x for wi, x in zip(w, tensors))
        return res / sum(w) if g("normalize", True) else res
    if method in GTA:
        spars, consensus, dn, dr = GTA[method]
        normalize, rescale, lam = g("normalize", dn), g("rescale", dr), g("lambda", 1.0)
        b = tensors[base_i]
        deltas, weights = [], []
        idx = 0
        for i, x in enumerate(tensors):
            if i == base_i:
                continue
            d = sparsify(x - b, spars, p(i, "density", 1.0), p(i, "gamma", 0.01), p(i, "epsilon", 0.15), rescale, out_name, idx)
            idx += 1
            deltas.append(d)
            weights.append(p(i, "weight", None))
        d = torch.stack(deltas)
        w = torch.tensor(weights, dtype=torch.float64).reshape(-1, *([1] * (d.dim() - 1)))
        wd = d * w
        if consensus:
            majority = torch.where(wd.sum(0) >= 0, 1.0, -1.0).double()
            mask = (wd.sign() == majority).double()
            mixed = (wd * mask).sum(0)
            divisor = (w * mask).sum(0)
            divisor[divisor == 0] = 1
        else:
            mixed = wd.sum(0)
            divisor = w.sum(0) * torch.ones_like(mixed)
            divisor[divisor.abs() < 1e-8] = 1
        if normalize:
            mixed = mixed / divisor
        return b + lam * mixed
    if method == "slerp":
        other = next(i for i in range(len(tensors)) if i != base_i)
        return slerp(g("t", None), tensors[base_i], tensors[other])
    if method == "nuslerp":
        two = [i for i in range(len(tensors)) if i != base_i]
        w0, w1 = p(two[0], "weight", None), p(two[1], "weight", None)
        tt = 0.5 if abs(w0 + w1) < 1e-6 else w1 / (w0 + w1)
        rw, fl = g("nuslerp_row_wise", False), g("nuslerp_flatten", True)
        if base_i is None:
            return nuslerp(tt, tensors[two[0]], tensors[two[1]], rw, fl)
        b = tensors[base_i]
        return b + nuslerp(tt, tensors[two[0]] - b, tensors[two[1]] - b, rw, fl)
    if method == "model_stock":
        return model_stock(tensors[base_i], [x for i, x in enumerate(tensors) if i != base_i], g("filter_wise", False))
    if method == "passthrough":
        scale = p(0, "scale", None)
        return tensors[0] * scale if scale is not None else tensors[0]
    raise ValueError(method)


def run_case(cfg, models):
    """mergekit's plan: the first slice's pre-weights, every slice's layers (t = idx / (n - 1)), the last slice's head."""
    if "models" in cfg:
        sources = [{"model": m["model"], "layer_range": [0, CFG["num_hidden_layers"]], "parameters": m.get("parameters")}
                   for m in cfg["models"]]
        if cfg.get("base_model") and not any(s["model"] == cfg["base_model"] for s in sources) and cfg["merge_method"] != "linear":
            sources.append({"model": cfg["base_model"], "layer_range": [0, CFG["num_hidden_layers"]]})
        slices = [{"sources": sources}]
    else:
        slices = cfg["slices"]
    base = cfg.get("base_model")
    out = {}

    def merge_named(slice_def, out_name, in_names, t):
        tensors = [models[s["model"]][n] for s, n in zip(slice_def["sources"], in_names)]
        out[out_name] = merge_tensor(cfg, slice_def, slice_def["sources"], tensors, out_name, in_names, t, base)

    pre = ["model.embed_tokens.weight"]
    post = ["model.norm.weight", "lm_head.weight"]
    for n in pre:
        merge_named(slices[0], n, [n] * len(slices[0]["sources"]), 0)
    layer = 0
    suffixes = sorted({k.split(".", 3)[3] for k in models["base"] if k.startswith("model.layers.0.")})
    for s in slices:
        start = [src["layer_range"][0] for src in s["sources"]]
        length = s["sources"][0]["layer_range"][1] - start[0]
        for idx in range(length):
            t = idx / (length - 1) if length > 1 else 1
            for suf in suffixes:
                merge_named(s, f"model.layers.{layer}.{suf}", [f"model.layers.{st + idx}.{suf}" for st in start], t)
            layer += 1
    for n in post:
        merge_named(slices[-1], n, [n] * len(slices[-1]["sources"]), 0)
    return out, layer


def bf16(t):
    return t.to(torch.bfloat16).double()


def main():
    import yaml  # python3-yaml
    models, gen = make_models()
    write_models(models, gen)
    (OUT / "cases").mkdir(parents=True, exist_ok=True)
    (OUT / "expected").mkdir(parents=True, exist_ok=True)
    summary = {}
    for name, text in CASES.items():
        cfg = yaml.safe_load(text)
        merged, layers = run_case(cfg, models)
        if cfg.get("dtype") == "bfloat16":
            merged = {n: bf16(t) for n, t in merged.items()}
        (OUT / "cases" / f"{name}.yml").write_text(text.lstrip())
        write_safetensors(OUT / "expected" / f"{name}.safetensors", {n: (t, "F64") for n, t in merged.items()},
                          {"fixture_version": "1"})
        summary[name] = {"layers": layers, "dtype": cfg.get("dtype", "float32")}
        print(f"{name:24s} {len(merged):3d} tensors, {layers} layers, |W| = {sum(t.norm().item() ** 2 for t in merged.values()) ** 0.5:.6f}")
    (OUT / "cases.json").write_text(json.dumps({"written_by": "tools/reference/mergekit_reference.py", "seed": SEED,
                                                "cases": summary}, indent=1) + "\n")


if __name__ == "__main__":
    main()

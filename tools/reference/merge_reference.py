#!/usr/bin/python3
"""Independent reference for adapter merges (docs/merging.md), in plain PyTorch, fp64.

Reads the golden adapters written by adapters_reference.py (LoRA with rank and alpha patterns, DoRA,
NOLA, LoKr on one tiny base), computes each adapter's task vector ΔW = W_adapted − W per module from
the formulas (not from the Java code), merges them by each method, and writes, under
shared-libs/merging/src/test/resources/golden-merges/:
  cases.json                 each case: adapters, method, weights, density, seed, rank
  <case>.safetensors         the merged ΔW of every module any adapter touches (F64), keyed by module;
                             for an SVD case, the rank-r approximation U_r·diag(S_r)·V_rᵀ

Run: /usr/bin/python3 tools/reference/merge_reference.py
"""
import json
import math
import pathlib
import struct

import torch

from adapters_reference import NolaBasis, fnv1a64, factorization, MASK64
from llama_reference import write_safetensors

ROOT = pathlib.Path(__file__).resolve().parents[2]
ADAPTERS = ROOT / "shared-libs/adapters/src/test/resources/golden-adapters"
OUT = ROOT / "shared-libs/merging/src/test/resources/golden-merges"

CASES = {
    "linear": {"adapters": ["lora", "dora", "lokr"], "method": "linear", "weights": [0.5, 0.3, 0.2]},
    "task-arithmetic": {"adapters": ["lora", "dora", "nola", "lokr"], "method": "task_arithmetic",
                        "weights": [1.0, 0.5, 0.7, -0.4]},
    "ties": {"adapters": ["lora", "dora", "lokr"], "method": "ties", "weights": [1.0, 0.6, 0.8], "density": 0.4},
    "dare-linear": {"adapters": ["dora", "nola"], "method": "dare_linear", "weights": [0.7, 1.0], "density": 0.5, "seed": 7},
    "dare-ties": {"adapters": ["lora", "dora", "lokr"], "method": "dare_ties", "weights": [1.0, 1.0, 0.5], "density": 0.6,
                  "seed": 11},
    "svd": {"adapters": ["lora", "nola"], "method": "task_arithmetic", "weights": [1.0, 1.0], "rank": 3},
    "into-base": {"adapters": ["dora"], "method": "task_arithmetic", "weights": [1.0]},
}


def read_safetensors(path):
    raw = path.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", info
        b, e = info["data_offsets"]
        data = raw[8 + n + b:8 + n + e]
        out[name] = torch.tensor(struct.unpack(f"<{len(data) // 4}f", data), dtype=torch.float64).reshape(info["shape"])
    return out


def task_vectors(base, adapter_dir):
    """ΔW (out, in) of every module the adapter changes, from its files and the base weights."""
    cfg = json.loads((adapter_dir / "adapter_config.json").read_text())
    tensors = read_safetensors(adapter_dir / "adapter_model.safetensors")
    modules = sorted({k[len("base_model.model."):].rsplit(".", 2 if k.endswith(".weight") else 1)[0] for k in tensors})
    deltas = {}
    for m in modules:
        key = "base_model.model." + m
        W = base[m + ".weight"]
        short = m.rsplit(".", 1)[1]
        r = cfg.get("rank_pattern", {}).get(short, cfg["r"])
        if cfg["peft_type"] == "LOKR":
            s = cfg["alpha"] / r
            w1 = tensors[key + ".lokr_w1"] if key + ".lokr_w1" in tensors else tensors[key + ".lokr_w1_a"] @ tensors[key + ".lokr_w1_b"]
            w2 = tensors[key + ".lokr_w2"] if key + ".lokr_w2" in tensors else tensors[key + ".lokr_w2_a"] @ tensors[key + ".lokr_w2_b"]
            deltas[m] = s * torch.kron(w1, w2)
            continue
        alpha = cfg.get("alpha_pattern", {}).get(short, cfg["lora_alpha"])
        s = alpha / math.sqrt(r) if cfg.get("use_rslora") else alpha / r
        if cfg["peft_type"] == "NOLA":
            out_f, in_f = W.shape
            basis = NolaBasis(cfg["basis_seed"], m)
            a0 = basis.take((r, in_f), in_f).double()
            a_bases = basis.take((cfg["num_basis_a"], r, in_f), in_f).double()
            b_bases = basis.take((cfg["num_basis_b"], out_f, r), r).double()
            A = a0 + torch.einsum("k,kri->ri", tensors[key + ".nola_alpha"], a_bases)
            B = torch.einsum("l,lor->or", tensors[key + ".nola_beta"], b_bases)
            deltas[m] = s * B @ A
            continue
        BA = s * tensors[key + ".lora_B.weight"] @ tensors[key + ".lora_A.weight"]
        if cfg.get("use_dora"):
            adapted = W + BA
            magnitude = tensors[key + ".lora_magnitude_vector"]
            deltas[m] = (magnitude / adapted.norm(p=2, dim=1))[:, None] * adapted - W
        else:
            deltas[m] = BA
    return deltas


def dare_keep(module, index, seed, density, shape):
    """The DARE mask: SplitMix64 from seed XOR FNV-1a-64("<module>#<index>"), keep where u < density."""
    basis = NolaBasis(0, "")
    basis.state = (seed & MASK64) ^ fnv1a64(f"{module}#{index}".encode("utf-8"))
    n = math.prod(shape)
    u = torch.tensor([basis.next() >> 40 for _ in range(n)], dtype=torch.float64) * 2.0 ** -24
    return (u < density).reshape(shape)


def trim_top(delta, density):
    """TIES' trim: keep the int(density · n) entries of largest magnitude (ties: lower flat index first)."""
    k = int(density * delta.numel())
    flat = delta.flatten()
    order = sorted(range(flat.numel()), key=lambda i: (-abs(flat[i].item()), i))
    keep = torch.zeros(flat.numel(), dtype=torch.bool)
    keep[order[:k]] = True
    return torch.where(keep, flat, torch.zeros_like(flat)).reshape(delta.shape)


def merge(module, deltas, case):
    """deltas: one (out, in) tensor per adapter (zeros where an adapter leaves the module alone)."""
    method, w = case["method"], torch.tensor(case["weights"], dtype=torch.float64)
    d = torch.stack(deltas)                                           # (n, out, in)
    if method.startswith("dare"):
        keep = torch.stack([dare_keep(module, i, case["seed"], case["density"], x.shape) for i, x in enumerate(deltas)])
        d = torch.where(keep, d / case["density"], torch.zeros_like(d))
    if method == "ties":
        d = torch.stack([trim_top(x, case["density"]) for x in d])
    weighted = d * w[:, None, None]
    if method in ("ties", "dare_ties"):
        majority = torch.where(weighted.sum(0) >= 0, 1.0, -1.0)
        agree = torch.sign(weighted) == majority
        divisor = (w[:, None, None] * agree).sum(0)
        divisor = torch.where(divisor == 0, torch.ones_like(divisor), divisor)
        return (weighted * agree).sum(0) / divisor
    if method == "linear":
        return weighted.sum(0) / w.sum()
    return weighted.sum(0)                                            # task_arithmetic, dare_linear


def main():
    base = read_safetensors(ADAPTERS / "base" / "model.safetensors")
    vectors = {name: task_vectors(base, ADAPTERS / name) for name in ["lora", "dora", "nola", "lokr"]}
    OUT.mkdir(parents=True, exist_ok=True)
    for name, case in CASES.items():
        per_adapter = [vectors[a] for a in case["adapters"]]
        modules = sorted(set().union(*per_adapter))
        result = {}
        for m in modules:
            W = base[m + ".weight"]
            merged = merge(m, [v.get(m, torch.zeros_like(W)) for v in per_adapter], case)
            if "rank" in case:
                U, S, Vh = torch.linalg.svd(merged, full_matrices=False)
                r = case["rank"]
                merged = U[:, :r] @ torch.diag(S[:r]) @ Vh[:r]
            result[m] = (merged, "F64")
        write_safetensors(OUT / f"{name}.safetensors", result, {"fixture_version": "1"})
        print(f"{name}: {len(modules)} modules, |ΔW| = {sum(t.norm().item() ** 2 for t, _ in result.values()) ** 0.5:.6f}")
    (OUT / "cases.json").write_text(json.dumps({"written_by": "tools/reference/merge_reference.py", "cases": CASES}, indent=1) + "\n")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Independent reference for the learned merges (Expert Merging, AdaMerging): the loss and its gradient
with respect to every raw coefficient, in plain PyTorch fp64 with autograd, written from the methods'
definitions (docs/merging.md, "Learned merges"):

  W(θ) = W₀ + Σₑ Σ_c act(θₑ,c) · τₑ[rows of chunk c]  on every linear module an expert changes, chunk c
         of k covering rows [⌊c·out/k⌋, ⌊(c+1)·out/k⌋); other tensors a whole-model expert changes move by
         c₀·τ (fixed)
  Expert Merging (act = sigmoid), on a batch of each expert e's texts:
         L = (1/E) Σₑ [T² · mean_pos CE(softmax(zₑ/T), softmax(z/T)) + β · mean_ℓ mean_pos,dim (hℓ − hℓ,ₑ)²]
             + γ · Σ|σ(θ) − c₀| / (coefficients per expert)
  AdaMerging (act = clamp to [0, 1]): L = mean_pos H(softmax(z))
where positions are those that predict a next token (all but each text's last), zₑ and hℓ,ₑ are the
expert's own logits and layer outputs, and hℓ is decoder layer ℓ's output.

Writes under shared-libs/merging/src/test/resources/golden-learned/:
  base/, lora/, dora/, model/   a tiny base, a LoRA and a DoRA adapter of it, a whole fine-tuned model
  <case>.json                   the experts, the settings, the texts, the chunks, the raw coefficients,
                                the loss (and its parts) and ∂L/∂θ for each coefficient

Run: /usr/bin/python3 tools/reference/learned_merge_reference.py
"""
import json
import pathlib

import torch

from adapters_reference import MODULES, adapter_config, forward, make_adapter, path_of
from llama_reference import base_config, random_weights, write_safetensors

OUT = pathlib.Path(__file__).resolve().parents[2] / "shared-libs/merging/src/test/resources/golden-learned"


def task_vector(W, ad):
    s, p = ad["scaling"], {k: v.detach() for k, v in ad["params"].items()}
    low_rank = s * p["lora_B"] @ p["lora_A"]
    if ad["kind"] == "lora":
        return low_rank
    full = W + low_rank  # DoRA: the magnitude over the row norms of W + s·B·A, minus W
    return (p["lora_magnitude_vector"] / full.norm(p=2, dim=1))[:, None] * full - W


def row_scale(coefficients, out):
    """(out, 1): chunk c's coefficient on rows [⌊c·out/k⌋, ⌊(c+1)·out/k⌋)."""
    k = coefficients.shape[0]
    return torch.cat([coefficients[c].expand((c + 1) * out // k - c * out // k) for c in range(k)])[:, None]


def batch(texts):
    T = max(len(t) for t in texts)
    ids = torch.zeros(len(texts), T, dtype=torch.long)
    mask = torch.zeros(len(texts), T, dtype=torch.long)
    counted = torch.zeros(len(texts), T, dtype=torch.bool)
    for b, t in enumerate(texts):
        ids[b, :len(t)] = torch.tensor(t)
        mask[b, :len(t)] = 1
        counted[b, :len(t) - 1] = True
    return ids, mask, counted


def texts(gen, vocab, lengths):
    return [torch.randint(3, vocab, (n,), generator=gen).tolist() for n in lengths]


def main():
    cfg = base_config("LlamaForCausalLM", "llama")
    L = cfg["num_hidden_layers"]
    gen = torch.Generator().manual_seed(20261207)
    W0 = random_weights(cfg, gen, "F32")
    OUT.mkdir(parents=True, exist_ok=True)

    def save_model(name, W):
        (OUT / name).mkdir(exist_ok=True)
        (OUT / name / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
        write_safetensors(OUT / name / "model.safetensors", {n: (t, "F32") for n, t in W.items()}, {"format": "pt"})

    save_model("base", W0)
    experts = {}
    for name, kind, targets, rank, alpha in [("lora", "lora", ["q_proj", "v_proj", "down_proj"], 2, 4.0), ("dora", "dora", MODULES, 2, 3.0)]:
        adapters, files = make_adapter(cfg, kind, targets, rank, alpha, {}, gen)
        (OUT / name).mkdir(exist_ok=True)
        (OUT / name / "adapter_config.json").write_text(json.dumps(adapter_config(kind, targets, rank, alpha, {}), indent=2) + "\n")
        write_safetensors(OUT / name / "adapter_model.safetensors", {k: (v.detach(), "F32") for k, v in files.items()}, {"format": "pt"})
        W = dict(W0)
        for module, ad in adapters.items():
            W[module + ".weight"] = W0[module + ".weight"] + task_vector(W0[module + ".weight"], ad)
        experts[name] = ("adapter", W)
    Wm = {n: (t + 0.05 * torch.randn(t.shape, generator=gen, dtype=torch.float64)).float().double() for n, t in W0.items()}
    save_model("model", Wm)
    experts["model"] = ("model", Wm)

    cases = {
        # name: method, experts, settings, text lengths per set, chunks rule
        "expert-merging": ("expert_merging", ["lora", "dora"],
                           {"temperature": 2.0, "hidden_layers": [0, 1], "hidden_weight": 0.3, "regularization": 0.2,
                            "initial_coefficient": 0.4}, [[6, 4], [5, 7]], lambda layer, m: 1 + (layer + m) % 3),
        "expert-merging-whole-model": ("expert_merging", ["lora", "model"],
                                       {"temperature": 1.0, "hidden_layers": [1], "hidden_weight": 0.1, "regularization": 0.1,
                                        "initial_coefficient": 0.5}, [[5, 5], [7, 3]], lambda layer, m: 1),
        "ada-merging": ("ada_merging", ["lora", "dora"], {"initial_coefficient": 0.3}, [[5, 8, 3]], lambda layer, m: 2),
    }
    for case, (method, names, settings, lengths, rule) in cases.items():
        sets = [texts(gen, cfg["vocab_size"], l) for l in lengths]
        c0 = settings["initial_coefficient"]
        modules = []  # forward order: the ones some expert changes
        for layer in range(L):
            for m, name in enumerate(MODULES):
                key = path_of(layer, name) + ".weight"
                if any(not torch.equal(experts[e][1][key], W0[key]) for e in names):
                    modules.append((path_of(layer, name), rule(layer, m)))
        taus = {mod: [experts[e][1][mod + ".weight"] - W0[mod + ".weight"] for e in names] for mod, _ in modules}
        raw = {}
        for mod, k in modules:
            if method == "expert_merging":
                raw[mod] = torch.randn(len(names), k, generator=gen, dtype=torch.float64).requires_grad_()
            else:
                raw[mod] = (torch.rand(len(names), k, generator=gen, dtype=torch.float64) * 1.6 - 0.3).requires_grad_()
        act = torch.sigmoid if method == "expert_merging" else (lambda t: torch.clamp(t, 0.0, 1.0))
        W = dict(W0)
        for e, name in enumerate(names):  # a whole model's other tensors: task arithmetic at c₀
            if experts[name][0] == "model":
                for n in W0:
                    if not n.endswith("_proj.weight"):
                        W[n] = W[n] + c0 * (experts[name][1][n] - W0[n])
        for mod, k in modules:
            w = W0[mod + ".weight"]
            W[mod + ".weight"] = w + sum(row_scale(act(raw[mod][e]), w.shape[0]) * taus[mod][e] for e in range(len(names)))
        parts = {}
        if method == "expert_merging":
            T, layers = settings["temperature"], settings["hidden_layers"]
            total = 0
            for e, name in enumerate(names):
                ids, mask, counted = batch(sets[e])
                with torch.no_grad():
                    teacher_hidden = []
                    teacher = forward(cfg, experts[name][1], {}, ids, mask, teacher_hidden)
                hidden = []
                z = forward(cfg, W, {}, ids, mask, hidden)
                p = torch.softmax(teacher[counted] / T, dim=-1)
                ce = -(p * torch.log_softmax(z[counted] / T, dim=-1)).sum(-1).mean() * T * T
                mse = sum(((hidden[l] - teacher_hidden[l])[counted] ** 2).mean() for l in layers) / len(layers)
                parts["logits"] = parts.get("logits", 0) + ce.item() / len(names)
                parts["hidden"] = parts.get("hidden", 0) + settings["hidden_weight"] * mse.item() / len(names)
                total = total + (ce + settings["hidden_weight"] * mse) / len(names)
            per_expert = sum(r.numel() for r in raw.values()) / len(names)
            pull = settings["regularization"] * sum((torch.sigmoid(r) - c0).abs().sum() for r in raw.values()) / per_expert
            parts["pull"] = pull.item()
            total = total + pull
        else:
            ids, mask, counted = batch(sets[0])
            q = torch.softmax(forward(cfg, W, {}, ids, mask)[counted], dim=-1)
            total = -(q * torch.log(q)).sum(-1).mean()
            parts["entropy"] = total.item()
        total.backward()
        (OUT / f"{case}.json").write_text(json.dumps({
            "fixture_version": 1, "written_by": "tools/reference/learned_merge_reference.py", "method": method,
            "experts": [{"name": n, "kind": experts[n][0]} for n in names], "settings": settings, "texts": sets,
            "chunks": {mod: k for mod, k in modules},
            "raw": {mod: raw[mod].detach().tolist() for mod, _ in modules},
            "loss": total.item(), "parts": parts,
            "gradient": {mod: raw[mod].grad.tolist() for mod, _ in modules},
        }, indent=1) + "\n")
        print(f"{case}: loss {total.item():.10f} {parts}, {sum(r.numel() for r in raw.values())} coefficients on {len(modules)} modules")


if __name__ == "__main__":
    main()

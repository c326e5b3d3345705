#!/usr/bin/python3
"""Independent reference for preference tuning with adapters, in plain PyTorch fp64 with autograd:
DPO (Rafailov et al., 2023; TRL's sigmoid loss: the policy is the base model with the adapter, the
reference the same base with the adapter switched off), SimPO (Meng et al., 2024: the margin of the
answers' mean log-probabilities, less gamma) and ORPO (Hong et al., 2024: the preferred answer's mean
cross-entropy plus lambda times the log odds ratio's loss; its cross-entropy term a mean per pair).

For every case it writes, under shared-libs/training/src/test/resources/golden-dpo/:
  base/                          a tiny Llama checkpoint (shared by all cases)
  <case>/adapter_config.json, adapter_model.safetensors   the adapter, in PEFT's format
  <case>/expected.json           the pairs (token ids and labels per side), beta, the DPO loss and metrics
  <case>/expected.safetensors    the gradient of the mean DPO loss for every adapter tensor (F64)
  <case>/expected-simpo.json, expected-simpo.safetensors   the same for SimPO (beta, gamma)
  <case>/expected-orpo.json, expected-orpo.safetensors     the same for ORPO (lambda, as "beta")

Run: /usr/bin/python3 tools/reference/dpo_reference.py
"""
import json
import pathlib

import torch

from adapters_reference import MODULES, adapter_config, forward, make_adapter
from llama_reference import base_config, random_weights, write_safetensors

OUT = pathlib.Path(__file__).resolve().parents[2] / "shared-libs/training/src/test/resources/golden-dpo"
BETA = 0.2
SIMPO_BETA, SIMPO_GAMMA = 2.0, 0.5
ORPO_LAMBDA = 0.3
CASES = {
    "lora": ("lora", ["q_proj", "v_proj", "down_proj"], 4, 8.0, {}),
    "dora": ("dora", MODULES, 3, 5.0, {}),
}


def pairs(gen, vocab):
    """Three pairs: prompt and answers of different lengths (ids from 3: 0 pads, 1 and 2 are BOS/EOS)."""
    out = []
    for prompt_len, chosen_len, rejected_len in [(3, 4, 2), (5, 2, 5), (1, 3, 3)]:
        def ids(n):
            return torch.randint(3, vocab, (n,), generator=gen).tolist()
        prompt = ids(prompt_len)
        out.append((prompt, prompt + ids(chosen_len), prompt + ids(rejected_len), prompt_len))
    return out


def side(tokens, prompt_len):
    return {"input_ids": tokens, "labels": [-100] * prompt_len + tokens[prompt_len:]}


def rows(ps):
    """Preferred answers first, then the others (as DpoObjective lays them out), right-padded with 0."""
    sides = [side(c, n) for _, c, _, n in ps] + [side(r, n) for _, _, r, n in ps]
    T = max(len(s["input_ids"]) for s in sides)
    ids = torch.zeros(len(sides), T, dtype=torch.long)
    mask = torch.zeros(len(sides), T, dtype=torch.long)
    labels = torch.full((len(sides), T), -100, dtype=torch.long)
    for b, s in enumerate(sides):
        n = len(s["input_ids"])
        ids[b, :n] = torch.tensor(s["input_ids"])
        mask[b, :n] = 1
        labels[b, :n] = torch.tensor(s["labels"])
    return ids, mask, labels


def answer_lengths(labels):
    """Each row's scored tokens (labelled positions after the first)."""
    return (labels[:, 1:] != -100).sum(dim=1).double()


def row_logps(logits, labels):
    """Σ over each row's labelled positions t+1 of log p(labels[t+1] | ≤ t)."""
    logp = torch.log_softmax(logits[:, :-1, :], dim=-1)
    target = labels[:, 1:]
    scored = target != -100
    picked = torch.gather(logp, 2, target.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return (picked * scored).sum(dim=1)


def main():
    cfg = base_config("LlamaForCausalLM", "llama")
    gen = torch.Generator().manual_seed(4242)
    W = random_weights(cfg, gen, "F32")
    (OUT / "base").mkdir(parents=True, exist_ok=True)
    (OUT / "base" / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    write_safetensors(OUT / "base" / "model.safetensors", {n: (t, "F32") for n, t in W.items()}, {"format": "pt"})
    ps = pairs(gen, cfg["vocab_size"])
    ids, mask, labels = rows(ps)
    P = len(ps)
    with torch.no_grad():
        reference = row_logps(forward(cfg, W, {}, ids, mask), labels)
    n = answer_lengths(labels)
    for name, (kind, targets, rank, alpha, opts) in CASES.items():
        adapters, files = make_adapter(cfg, kind, targets, rank, alpha, opts, gen)
        d = OUT / name
        d.mkdir(parents=True, exist_ok=True)
        (d / "adapter_config.json").write_text(json.dumps(adapter_config(kind, targets, rank, alpha, opts), indent=2) + "\n")
        write_safetensors(d / "adapter_model.safetensors", {k: (v.detach(), "F32") for k, v in files.items()}, {"format": "pt"})
        for objective in ["dpo", "simpo", "orpo"]:
            for v in files.values():
                v.grad = None
            policy = row_logps(forward(cfg, W, adapters, ids, mask), labels)
            extra = {}
            if objective == "dpo":
                beta = BETA
                chosen_reward = beta * (policy[:P] - reference[:P])
                rejected_reward = beta * (policy[P:] - reference[P:])
                losses = -torch.nn.functional.logsigmoid(chosen_reward - rejected_reward)
            elif objective == "simpo":
                beta = SIMPO_BETA
                chosen_reward = beta * policy[:P] / n[:P]
                rejected_reward = beta * policy[P:] / n[P:]
                losses = -torch.nn.functional.logsigmoid(chosen_reward - rejected_reward - SIMPO_GAMMA)
            else:
                beta = ORPO_LAMBDA
                a_c, a_r = policy[:P] / n[:P], policy[P:] / n[P:]
                log_odds = (a_c - a_r) - (torch.log1p(-torch.exp(a_c)) - torch.log1p(-torch.exp(a_r)))
                nll = -a_c
                losses = nll - beta * torch.nn.functional.logsigmoid(log_odds)
                chosen_reward, rejected_reward = beta * a_c, beta * a_r
                extra = {"nll_loss": nll.mean().item(), "log_odds_ratio": log_odds.mean().item()}
            loss = losses.mean()
            loss.backward()
            suffix = "" if objective == "dpo" else "-" + objective
            write_safetensors(d / f"expected{suffix}.safetensors", {k: (v.grad, "F64") for k, v in files.items()},
                              {"fixture_version": "1"})
            metrics = {
                "reward_margin": (chosen_reward - rejected_reward).mean().item(),
                "reward_accuracy": (chosen_reward > rejected_reward).double().mean().item(),
                "chosen_reward": chosen_reward.mean().item(),
                "rejected_reward": rejected_reward.mean().item(),
                "chosen_logp": policy[:P].mean().item(),
                "rejected_logp": policy[P:].mean().item(),
                **extra,
            }
            expected = {"fixture_version": 1, "written_by": "tools/reference/dpo_reference.py", "beta": beta}
            if objective != "dpo":
                expected["objective"] = objective
            if objective == "simpo":
                expected["gamma"] = SIMPO_GAMMA
            expected.update({"pairs": [{"chosen": side(c, k), "rejected": side(r, k)} for _, c, r, k in ps],
                             "loss": loss.item(), "metrics": metrics})
            (d / f"expected{suffix}.json").write_text(json.dumps(expected, indent=1) + "\n")
            print(f"{name} {objective}: loss {loss.item():.6f}, accuracy {metrics['reward_accuracy']:.2f},"
                  f" margin {metrics['reward_margin']:.4f}, {len(files)} tensors")


if __name__ == "__main__":
    main()

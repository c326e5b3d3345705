#!/usr/bin/python3
"""PyTorch column of docs/benchmarks.md: the same measurements `peft bench forward` and `peft bench train`
make, in PyTorch (the adapters as tools/reference/adapters_reference.py writes them, trained with
torch.optim.AdamW; base weights frozen, so autograd skips their gradients).

A random model of the smollm2-135m-shape preset (the reference forward of llama_reference.py, in fp32,
eager attention as transformers runs it on PyTorch 1.13), on random tokens, batch 8 x 256 by default:
seconds per loss forward, tokens/s, peak RSS. Run with the same thread count as the Java side:

    OMP_NUM_THREADS=2 /usr/bin/python3 tools/reference/bench.py forward --threads 2

Needs Debian's python3-torch and libopenblas0 (without OpenBLAS, PyTorch falls back to reference BLAS).
"""
import argparse
import math
import resource
import time

import torch

from llama_reference import forward

PRESETS = {
    "smollm2-135m-shape": dict(vocab_size=49152, hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
                               num_attention_heads=9, num_key_value_heads=3, head_dim=64, rope_theta=100000.0,
                               tie_word_embeddings=True),
    "tinyllama-1.1b-shape": dict(vocab_size=32000, hidden_size=2048, intermediate_size=5632, num_hidden_layers=22,
                                 num_attention_heads=32, num_key_value_heads=4, head_dim=64, rope_theta=10000.0,
                                 tie_word_embeddings=False),
    "tiny": dict(vocab_size=512, hidden_size=64, intermediate_size=176, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=2, head_dim=16, rope_theta=10000.0, tie_word_embeddings=False),
}


def config(preset):
    cfg = dict(PRESETS[preset])
    cfg.update(model_type="llama", rms_norm_eps=1e-5, rope_scaling=None, max_position_embeddings=8192)
    return cfg


def random_weights(cfg, dtype):
    from llama_reference import shapes
    g = torch.Generator().manual_seed(0)
    return {n: (torch.ones(s, dtype=dtype) if n.endswith("norm.weight") else torch.randn(s, generator=g, dtype=dtype) * 0.02)
            for n, s in shapes(cfg).items()}


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def seconds_per_step(step, args):
    """Runs args.warmup untimed steps, then args.steps timed ones; returns (seconds per step, last loss)."""
    for _ in range(args.warmup):
        step()
    start = time.perf_counter()
    for _ in range(args.steps):
        loss = step()
    assert math.isfinite(loss)
    return (time.perf_counter() - start) / args.steps, loss


def bench_forward(args):
    cfg = config(args.preset)
    W = random_weights(cfg, torch.float32)
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, cfg["vocab_size"], (args.batch_size, args.seq_len), generator=g)
    mask = torch.ones_like(ids)

    def step():
        with torch.inference_mode():
            logits = forward(cfg, W, ids, mask)
            return torch.nn.functional.cross_entropy(
                logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1)).item()

    s, _ = seconds_per_step(step, args)
    tokens = args.batch_size * args.seq_len
    print("| benchmark | preset | batch | seq | threads | s/step | tokens/s | peak RSS |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| forward (PyTorch {torch.__version__}) | {args.preset} | {args.batch_size} | {args.seq_len} | "
          f"{torch.get_num_threads()} | {s:.3f} | {tokens / s:.0f} | {peak_rss_mb():.1f} MB |")


def trainable_adapters(cfg, method, rank, dtype):
    """Adapters on every linear module, initialised as PEFT does (so NOLA/LoKr shapes match the Java side)."""
    from adapters_reference import MODULES, NolaBasis, dims, factorization, path_of
    g = torch.Generator().manual_seed(2)
    adapters, params = {}, []

    def param(*shape, zero=False):
        t = torch.zeros(shape, dtype=dtype) if zero else (torch.rand(shape, generator=g, dtype=dtype) * 2 - 1) / math.sqrt(shape[-1])
        t.requires_grad_()
        params.append(t)
        return t

    for layer in range(cfg["num_hidden_layers"]):
        for module in MODULES:
            name = path_of(layer, module)
            fin, fout = dims(cfg, module)
            s = 2.0 * rank / rank
            if method in ("lora", "dora"):
                p = {"lora_A": param(rank, fin), "lora_B": param(fout, rank, zero=True)}
                if method == "dora":
                    w = torch.ones(fout, dtype=dtype).requires_grad_()
                    params.append(w)
                    p["lora_magnitude_vector"] = w
                adapters[name] = {"kind": method, "scaling": s, "params": p}
            elif method == "nola":
                basis = NolaBasis(0, name)
                k = l = 64
                adapters[name] = {"kind": "nola", "scaling": s, "params": {"nola_alpha": param(k, zero=True), "nola_beta": param(l, zero=True)},
                                  "a0": basis.take((rank, fin), fin).to(dtype), "a_bases": basis.take((k, rank, fin), fin).to(dtype),
                                  "b_bases": basis.take((l, fout, rank), rank).to(dtype)}
            else:
                (a, c), (b, d) = factorization(fout), factorization(fin)
                p = {"lokr_w1": param(a, b, zero=True)}
                if rank < max(c, d) / 2:
                    p["lokr_w2_a"], p["lokr_w2_b"] = param(c, rank), param(rank, d)
                else:
                    p["lokr_w2"] = param(c, d)
                adapters[name] = {"kind": "lokr", "scaling": s, "params": p}
    return adapters, params


def bench_train(args):
    from adapters_reference import forward as adapted_forward
    cfg = config(args.preset)
    W = random_weights(cfg, torch.float32)
    adapters, params = trainable_adapters(cfg, args.method, args.rank, torch.float32)
    optimizer = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.0)
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, cfg["vocab_size"], (args.batch_size, args.seq_len), generator=g)
    mask = torch.ones_like(ids)

    def step():
        optimizer.zero_grad(set_to_none=True)
        logits = adapted_forward(cfg, W, adapters, ids, mask)
        loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))
        loss.backward()
        optimizer.step()
        return loss.item()

    s, _ = seconds_per_step(step, args)
    tokens = args.batch_size * args.seq_len
    trainable = sum(p.numel() for p in params)
    if not args.no_header:
        print("| benchmark | method | trainable | preset | batch | seq | threads | s/step | tokens/s | peak RSS |")
        print("|---|---|---|---|---|---|---|---|---|---|")
    print(f"| train (PyTorch {torch.__version__}) | {args.method} | {trainable:,} | {args.preset} | {args.batch_size} | "
          f"{args.seq_len} | {torch.get_num_threads()} | {s:.3f} | {tokens / s:.0f} | {peak_rss_mb():.1f} MB |")


def bench_train_fast(args):
    """The fastest plain-PyTorch adapter step we could write for this torch (1.13: no fused attention op):
    frozen weights pre-transposed and contiguous so every projection is one 2-D GEMM on (B·T, in) rows,
    GQA by expand (no repeat_interleave copy until the matmul needs it), an additive causal mask built
    once, RoPE tables built once, cross-entropy fused over the (B·T, V) logits, and AdamW's foreach
    implementation. The adapters are trainable_adapters' (same initial values as the eager `train`, so the
    first loss is the same) in their cheapest exact forms: LoRA as two thin GEMMs; DoRA as g·(W x + s·B A x)
    with PEFT's detached norm computed without autograd (one base GEMM, not two); NOLA's A and B combined
    from their bases once per step, then as LoRA; Kronecker as (W₁ ⊗ W₂) x = W₁ · X · W₂ᵀ on x reshaped
    to (B·T, b, d), never the dense (out, in) product whose gradient would cost a full weight GEMM.
    What a PyTorch user who tunes by hand gets. With --bf16: the step under CPU autocast to bfloat16 with the
    frozen weights (projections and head) held in bfloat16, so no step casts them again."""
    from llama_reference import inv_freq
    from adapters_reference import path_of
    cfg = config(args.preset)
    W = random_weights(cfg, torch.float32)
    B, T = args.batch_size, args.seq_len
    H, Hkv, hd, eps = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"], cfg["rms_norm_eps"]
    G, N = H // Hkv, B * T
    frozen = torch.bfloat16 if args.bf16 else torch.float32
    Wt = {n: t.t().contiguous().to(frozen) for n, t in W.items() if n.endswith("_proj.weight")}  # (in, out)
    head = (W["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else W["lm_head.weight"]).t().contiguous().to(frozen)  # (D, V)
    adapters, params = trainable_adapters(cfg, args.method, args.rank, torch.float32)
    optimizer = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.0, foreach=True)
    freqs = torch.outer(torch.arange(T, dtype=torch.float64), inv_freq(cfg))
    cos = torch.cat((freqs, freqs), -1).cos().float()[None, None]  # (1, 1, T, hd)
    sin = torch.cat((freqs, freqs), -1).sin().float()[None, None]
    causal = torch.full((T, T), float("-inf")).triu(1)
    ids = torch.randint(0, cfg["vocab_size"], (B, T), generator=torch.Generator().manual_seed(1))
    targets = torch.cat((ids[:, 1:], torch.full((B, 1), -100)), 1).reshape(-1)

    def rope(x):  # (B, h, T, hd)
        half = hd // 2
        return x * cos + torch.cat((-x[..., half:], x[..., :half]), -1) * sin

    def norm(x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w

    def low_rank(x, name, A, B_):  # x W + s (x Aᵀ) Bᵀ
        return torch.addmm(torch.mm(x, Wt[name + ".weight"]), torch.mm(x, A.t()), B_.t(), alpha=adapters[name]["scaling"])

    def lin(x, name):  # x (N, in) -> (N, out)
        ad = adapters[name]
        kind, s, p = ad["kind"], ad["scaling"], ad["params"]
        if kind == "lora":
            return low_rank(x, name, p["lora_A"], p["lora_B"])
        if kind == "dora":
            with torch.no_grad():
                row_norm = (W[name + ".weight"] + s * (p["lora_B"] @ p["lora_A"])).norm(p=2, dim=1)
            return low_rank(x, name, p["lora_A"], p["lora_B"]) * (p["lora_magnitude_vector"] / row_norm)
        if kind == "nola":
            A = torch.addmv(ad["a0"].reshape(-1), ad["a_bases"].reshape(ad["a_bases"].shape[0], -1).t(), p["nola_alpha"])
            B_ = torch.mv(ad["b_bases"].reshape(ad["b_bases"].shape[0], -1).t(), p["nola_beta"])
            return low_rank(x, name, A.view(ad["a0"].shape), B_.view(ad["b_bases"].shape[1:]))
        w1 = p["lokr_w1"]
        w2 = p["lokr_w2"] if "lokr_w2" in p else p["lokr_w2_a"] @ p["lokr_w2_b"]
        (a, b), (c, d) = w1.shape, w2.shape
        delta = torch.matmul(w1, torch.matmul(x.view(-1, b, d), w2.t()))  # (N, a, c)
        return torch.add(torch.mm(x, Wt[name + ".weight"]), delta.reshape(-1, a * c), alpha=s)

    def step():
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            loss = forward()
        loss.backward()
        optimizer.step()
        return loss.item()

    def forward():
        x = W["model.embed_tokens.weight"][ids.reshape(-1)]  # (N, D)
        for i in range(cfg["num_hidden_layers"]):
            p = f"model.layers.{i}."
            h = norm(x, W[p + "input_layernorm.weight"])
            q = rope(lin(h, p + "self_attn.q_proj").view(B, T, H, hd).transpose(1, 2))
            k = rope(lin(h, p + "self_attn.k_proj").view(B, T, Hkv, hd).transpose(1, 2))
            v = lin(h, p + "self_attn.v_proj").view(B, T, Hkv, hd).transpose(1, 2)
            k = k[:, :, None].expand(B, Hkv, G, T, hd).reshape(B, H, T, hd)
            v = v[:, :, None].expand(B, Hkv, G, T, hd).reshape(B, H, T, hd)
            attn = torch.softmax(torch.baddbmm(causal.expand(B * H, T, T), q.reshape(B * H, T, hd),
                                               k.reshape(B * H, T, hd).transpose(1, 2), alpha=1 / math.sqrt(hd)), -1)
            ctx = torch.bmm(attn, v.reshape(B * H, T, hd)).view(B, H, T, hd).transpose(1, 2).reshape(N, H * hd)
            x = x + lin(ctx, p + "self_attn.o_proj")
            h = norm(x, W[p + "post_attention_layernorm.weight"])
            x = x + lin(torch.nn.functional.silu(lin(h, p + "mlp.gate_proj")) * lin(h, p + "mlp.up_proj"), p + "mlp.down_proj")
        logits = torch.mm(norm(x, W["model.norm.weight"]), head)
        return torch.nn.functional.cross_entropy(logits.float(), targets, ignore_index=-100)

    if args.check:  # the fast step's first loss and gradients against the eager one's, then no timing
        from adapters_reference import forward as adapted_forward
        g = torch.Generator().manual_seed(3)
        with torch.no_grad():  # no zero factors, so every gradient is exercised
            for t in params:
                t.add_(torch.randn(t.shape, generator=g) * 0.05)
        fast = step_grads(step, params)
        mask = torch.ones_like(ids)
        eager = step_grads(lambda: torch.nn.functional.cross_entropy(
            adapted_forward(cfg, W, adapters, ids, mask)[:, :-1].reshape(-1, cfg["vocab_size"]), ids[:, 1:].reshape(-1)), params,
            backward=True)
        worst = max((f - e).abs().max().item() / max(e.abs().max().item(), 1e-30) for f, e in zip(fast[1], eager[1]))
        print(f"{args.method}: loss fast {fast[0]:.6f} eager {eager[0]:.6f}; worst relative gradient difference {worst:.2e}")
        return

    sec, _ = seconds_per_step(step, args)
    trainable = sum(t.numel() for t in params)
    if not args.no_header:
        print("| benchmark | method | trainable | preset | batch | seq | threads | s/step | tokens/s | peak RSS |")
        print("|---|---|---|---|---|---|---|---|---|---|")
    print(f"| train (PyTorch {torch.__version__}, hand-tuned{', bf16 autocast' if args.bf16 else ''}) | {args.method} | {trainable:,} | {args.preset} | {B} | {T} | "
          f"{torch.get_num_threads()} | {sec:.3f} | {N / sec:.0f} | {peak_rss_mb():.1f} MB |")


def step_grads(step, params, backward=False):
    """One step's loss and the parameters' gradients, without the optimizer moving them."""
    saved = [t.detach().clone() for t in params]
    for t in params:
        t.grad = None
    loss = step()
    if backward:
        loss.backward()
        loss = loss.item()
    grads = [t.grad.detach().clone() for t in params]
    with torch.no_grad():
        for t, v in zip(params, saved):
            t.copy_(v)
    return loss, grads


def main():
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["forward", "train", "train-fast"])
    p.add_argument("--method", default="lora", choices=["lora", "dora", "nola", "kronecker"])
    p.add_argument("--rank", type=int, default=8)
    p.add_argument("--no-header", action="store_true")
    p.add_argument("--preset", default="smollm2-135m-shape", choices=sorted(PRESETS))
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--seq-len", type=int, default=256)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--bf16", action="store_true", help="train-fast: under CPU autocast to bfloat16, frozen weights in bfloat16")
    p.add_argument("--check", action="store_true", help="train-fast: compare its first loss and gradients with the eager step's")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    {"forward": bench_forward, "train": bench_train, "train-fast": bench_train_fast}[args.what](args)


if __name__ == "__main__":
    main()

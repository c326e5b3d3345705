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
    """The fastest plain-PyTorch LoRA step we could write for this torch (1.13: no fused attention op):
    frozen weights pre-transposed and contiguous so every projection is one 2-D GEMM on (B·T, in) rows,
    the LoRA path as two thin GEMMs, GQA by expand (no repeat_interleave copy until the matmul needs it),
    an additive causal mask built once, RoPE tables built once, cross-entropy fused over the (B·T, V)
    logits, and AdamW's foreach implementation. What a PyTorch user who tunes by hand gets."""
    from llama_reference import inv_freq
    from adapters_reference import MODULES, path_of
    if args.method != "lora":
        raise SystemExit("train-fast is the LoRA step only")
    cfg = config(args.preset)
    W = random_weights(cfg, torch.float32)
    B, T, D = args.batch_size, args.seq_len, cfg["hidden_size"]
    H, Hkv, hd, eps = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"], cfg["rms_norm_eps"]
    G, N = H // Hkv, B * T
    Wt = {n: t.t().contiguous() for n, t in W.items() if n.endswith("_proj.weight")}  # (in, out)
    head = (W["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else W["lm_head.weight"]).t().contiguous()  # (D, V)
    g = torch.Generator().manual_seed(2)
    lora, params = {}, []
    for layer in range(cfg["num_hidden_layers"]):
        for module in MODULES:
            name = path_of(layer, module)
            fin, fout = Wt[name + ".weight"].shape
            a = ((torch.rand(fin, args.rank, generator=g) * 2 - 1) / math.sqrt(fin)).requires_grad_()  # A^T (in, r)
            b = torch.zeros(args.rank, fout).requires_grad_()                                       # B^T (r, out)
            lora[name] = (a, b)
            params += [a, b]
    s = 2.0  # alpha / r with alpha = 2r
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

    def lin(x, name):
        a, b = lora[name]
        return torch.addmm(torch.mm(x, Wt[name + ".weight"]), torch.mm(x, a), b, alpha=s)

    def step():
        optimizer.zero_grad(set_to_none=True)
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
        loss = torch.nn.functional.cross_entropy(logits, targets, ignore_index=-100)
        loss.backward()
        optimizer.step()
        return loss.item()

    sec, _ = seconds_per_step(step, args)
    trainable = sum(t.numel() for t in params)
    if not args.no_header:
        print("| benchmark | method | trainable | preset | batch | seq | threads | s/step | tokens/s | peak RSS |")
        print("|---|---|---|---|---|---|---|---|---|---|")
    print(f"| train (PyTorch {torch.__version__}, hand-tuned) | lora | {trainable:,} | {args.preset} | {B} | {T} | "
          f"{torch.get_num_threads()} | {sec:.3f} | {N / sec:.0f} | {peak_rss_mb():.1f} MB |")


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
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    {"forward": bench_forward, "train": bench_train, "train-fast": bench_train_fast}[args.what](args)


if __name__ == "__main__":
    main()

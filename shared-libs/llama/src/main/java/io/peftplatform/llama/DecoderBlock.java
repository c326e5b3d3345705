package io.peftplatform.llama;

import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.nn.Arena;
import io.peftplatform.llama.nn.Attention;
import io.peftplatform.llama.nn.BlockActivations;
import io.peftplatform.llama.nn.LinearLayer;
import io.peftplatform.llama.nn.Positions;
import io.peftplatform.llama.nn.Profiler;
import io.peftplatform.llama.nn.RmsNorm;
import io.peftplatform.llama.nn.Rope;
import io.peftplatform.llama.nn.SwiGlu;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One pre-norm decoder layer: h = x + o_proj(attention(rope(q), rope(k), v)) on rms_norm(x), then
 * out = h + down_proj(silu(gate_proj(·)) ⊙ up_proj(·)) on rms_norm(h).
 */
public final class DecoderBlock {
  private final int index;
  private final LlamaConfig config;
  private final LayerWeights weights;
  public final LinearLayer qProj;
  public final LinearLayer kProj;
  public final LinearLayer vProj;
  public final LinearLayer oProj;
  public final LinearLayer gateProj;
  public final LinearLayer upProj;
  public final LinearLayer downProj;

  DecoderBlock(int index, LlamaConfig config, LayerWeights weights, LinearLayer[] linears) {
    this.index = index;
    this.config = config;
    this.weights = weights;
    this.qProj = linears[0];
    this.kProj = linears[1];
    this.vProj = linears[2];
    this.oProj = linears[3];
    this.gateProj = linears[4];
    this.upProj = linears[5];
    this.downProj = linears[6];
  }

  public int index() {
    return index;
  }

  /**
   * @param out (N, D) output residual stream; may be the same array as {@code in}
   * @param in (N, D) input residual stream
   * @param a this block's activation buffers
   * @param p row positions, RoPE tables and mask
   * @param cache key/value cache (batch 1) or null
   * @param backward whether {@link #backward} follows this pass (not in inference, nor in a checkpointed
   *     block's first pass)
   */
  void forward(INDArray out, INDArray in, BlockActivations a, Positions p, KvCache cache, Arena arena, boolean backward) {
    int b = p.batch();
    int tq = p.tq();
    int tk = p.tk();
    int heads = config.numHeads();
    int kvHeads = config.numKvHeads();
    int group = config.groupSize();
    int hd = config.headDim();
    long n = p.rows();

    Profiler.start();
    RmsNorm.forward(a.attnNormOut, a.attnNormRstd, in, weights.inputNorm, config.rmsNormEps());
    Profiler.mark("fwd rmsnorm");
    boolean fused = fusedAttention(a, p, cache);
    // fused: the projections write their token rows straight into the kept buffers, which attention reads
    INDArray q = fused ? a.qh.reshape('c', n, (long) heads * hd) : a.q;
    INDArray k = fused ? a.kh.reshape('c', n, (long) kvHeads * hd) : a.k;
    INDArray v = fused ? a.vh.reshape('c', n, (long) kvHeads * hd) : a.v;
    // what the projections' backward gets: gate, up and (fused) v are kept as written
    LinearLayer.Next next = backward ? LinearLayer.Next.BACKWARD : LinearLayer.Next.NOTHING;
    LinearLayer.Next nextKept = backward ? LinearLayer.Next.BACKWARD_WITH_OUTPUT : LinearLayer.Next.NOTHING;
    qProj.forward(q, a.attnNormOut, next);
    kProj.forward(k, a.attnNormOut, next);
    vProj.forward(v, a.attnNormOut, fused ? nextKept : next);
    Profiler.mark("fwd q/k/v");
    Rope.apply(q, heads, p.cos(), p.sin());
    Rope.apply(k, kvHeads, p.cos(), p.sin());
    Profiler.mark("fwd rope");
    if (fused) {
      Attention.forwardTokens(a.attnOut, a.probs, q, k, v, p.mask(), heads, kvHeads, 1.0 / Math.sqrt(hd));
      Profiler.mark("fwd attention");
    } else {
      // (B, Tq, Hkv, G, hd) -> (B, Hkv, G, Tq, hd): the heads of one kv group stacked along rows
      a.qh.reshape('c', b, kvHeads, group, tq, hd).assign(q.reshape('c', b, tq, kvHeads, group, hd).permute(0, 2, 3, 1, 4));
      INDArray kh = a.kh;
      INDArray vh = a.vh;
      if (cache == null) {
        kh.reshape('c', b, kvHeads, tk, hd).assign(k.reshape('c', b, tq, kvHeads, hd).permute(0, 2, 1, 3));
        vh.reshape('c', b, kvHeads, tk, hd).assign(v.reshape('c', b, tq, kvHeads, hd).permute(0, 2, 1, 3));
      } else {
        cache.write(index, k, v, p.offset());
        kh = cache.keys(index, tk);
        vh = cache.values(index, tk);
      }
      Profiler.mark("fwd regroup");
      Attention.forward(a.ctx, a.probs, a.qh, kh, vh, p.mask(), heads, 1.0 / Math.sqrt(hd));
      Profiler.mark("fwd attention");
      a.attnOut.reshape('c', b, tq, kvHeads, group, hd).assign(a.ctx.reshape('c', b, kvHeads, group, tq, hd).permute(0, 3, 1, 2, 4));
      Profiler.mark("fwd regroup");
    }

    INDArray projected = arena.get("blk.projected", n, config.hiddenSize());
    oProj.forward(projected, a.attnOut, next);
    Profiler.mark("fwd o");
    in.add(projected, a.mid);

    RmsNorm.forward(a.mlpNormOut, a.mlpNormRstd, a.mid, weights.postAttentionNorm, config.rmsNormEps());
    Profiler.mark("fwd rmsnorm");
    gateProj.forward(a.gate, a.mlpNormOut, nextKept);
    upProj.forward(a.up, a.mlpNormOut, nextKept);
    Profiler.mark("fwd gate/up");
    SwiGlu.forward(a.act, a.gateSigmoid, a.gate, a.up);
    Profiler.mark("fwd swiglu");
    downProj.forward(projected, a.act, next);
    Profiler.mark("fwd down");
    a.mid.add(projected, out);
  }

  /**
   * Whether attention runs fused on the projections' token rows ({@link Attention#forwardTokens}): fp32
   * with the Vector API, and no KV cache (whose keys are views into a longer buffer). Backward asks again
   * with no cache and gets the same answer, since training never has one.
   */
  private static boolean fusedAttention(BlockActivations a, Positions p, KvCache cache) {
    return cache == null && Attention.fused(a.qh, a.kh, a.vh, a.probs, a.attnOut, p.mask());
  }

  /**
   * Backpropagates through the block: dIn (N, D) = ∂L/∂in given dOut (N, D) = ∂L/∂out, reading what
   * forward kept in {@code a}; adapters accumulate their gradients. dIn may be the same array as dOut.
   *
   * @param scratchFresh this block's forward ran last (activation checkpointing recomputes it just before),
   *     so the activations it left in scratch are still there and are not recomputed
   */
  void backward(INDArray dIn, INDArray dOut, BlockActivations a, Positions p, Arena arena, boolean scratchFresh) {
    int b = p.batch();
    int t = p.tq();
    int heads = config.numHeads();
    int kvHeads = config.numKvHeads();
    int group = config.groupSize();
    int hd = config.headDim();
    long n = p.rows();
    int d = config.hiddenSize();
    int f = config.intermediateSize();

    // MLP: out = mid + down(silu(gate(n2)) ⊙ up(n2)), n2 = rms_norm(mid)
    Profiler.start();
    // what forward left in scratch, again from what it kept: the same kernels, so the same bits
    if (!scratchFresh) {
      RmsNorm.forward(a.mlpNormOut, a.mlpNormRstd, a.mid, weights.postAttentionNorm, config.rmsNormEps());
      SwiGlu.forward(a.act, a.gateSigmoid, a.gate, a.up);
      Profiler.mark("bwd recompute");
    }
    INDArray dMid = arena.get("bw.dMid", n, d);
    dMid.assign(dOut);
    INDArray dAct = arena.zeros("bw.dAct", n, f);
    downProj.backward(dAct, dOut, a.act);
    Profiler.mark("bwd down");
    INDArray dGate = arena.get("bw.dGate", n, f);
    INDArray dUp = arena.get("bw.dUp", n, f);
    SwiGlu.backward(dGate, dUp, dAct, a.gate, a.gateSigmoid, a.up, arena);
    Profiler.mark("bwd swiglu");
    INDArray dNorm = arena.zeros("bw.dNorm", n, d);
    gateProj.backward(dNorm, dGate, a.mlpNormOut, a.gate);
    upProj.backward(dNorm, dUp, a.mlpNormOut, a.up);
    Profiler.mark("bwd gate/up");
    RmsNorm.backward(dMid, dNorm, a.mid, a.mlpNormRstd, weights.postAttentionNorm);
    Profiler.mark("bwd rmsnorm");

    // attention: mid = in + o_proj(attention(rope(q(n1)), rope(k(n1)), v(n1))), n1 = rms_norm(in)
    INDArray dAttnOut = arena.zeros("bw.dAttnOut", n, (long) heads * hd);
    oProj.backward(dAttnOut, dMid, a.attnOut);
    Profiler.mark("bwd o");
    INDArray dQ = arena.get("bw.dQ", n, (long) heads * hd);
    INDArray dK = arena.get("bw.dK", n, (long) kvHeads * hd);
    INDArray dV = arena.get("bw.dV", n, (long) kvHeads * hd);
    boolean fused = fusedAttention(a, p, null);
    if (fused) {
      Attention.backwardTokens(dQ, dK, dV, dAttnOut, a.probs, a.qh.reshape('c', n, (long) heads * hd),
          a.kh.reshape('c', n, (long) kvHeads * hd), a.vh.reshape('c', n, (long) kvHeads * hd), p.mask(), heads, kvHeads,
          1.0 / Math.sqrt(hd));
      Profiler.mark("bwd attention");
    } else {
      INDArray dCtx = arena.get("bw.dCtx", a.ctx.shape());
      dCtx.reshape('c', b, kvHeads, group, t, hd).assign(dAttnOut.reshape('c', b, t, kvHeads, group, hd).permute(0, 2, 3, 1, 4));
      INDArray dQh = arena.get("bw.dQh", a.qh.shape());
      INDArray dKh = arena.get("bw.dKh", a.kh.shape());
      INDArray dVh = arena.get("bw.dVh", a.vh.shape());
      Profiler.mark("bwd regroup");
      Attention.backward(dQh, dKh, dVh, dCtx, a.probs, a.qh, a.kh, a.vh, p.mask(), heads, 1.0 / Math.sqrt(hd), arena);
      Profiler.mark("bwd attention");
      dQ.reshape('c', b, t, kvHeads, group, hd).assign(dQh.reshape('c', b, kvHeads, group, t, hd).permute(0, 3, 1, 2, 4));
      dK.reshape('c', b, t, kvHeads, hd).assign(dKh.reshape('c', b, kvHeads, t, hd).permute(0, 2, 1, 3));
      dV.reshape('c', b, t, kvHeads, hd).assign(dVh.reshape('c', b, kvHeads, t, hd).permute(0, 2, 1, 3));
      Profiler.mark("bwd regroup");
    }
    Rope.apply(dQ, heads, p.cos(), p.negSin()); // the inverse rotation
    Rope.apply(dK, kvHeads, p.cos(), p.negSin());
    Profiler.mark("bwd rope");
    if (!scratchFresh) {
      RmsNorm.forward(a.attnNormOut, a.attnNormRstd, a.input, weights.inputNorm, config.rmsNormEps());
      Profiler.mark("bwd recompute");
    }
    dNorm.assign(0);
    qProj.backward(dNorm, dQ, a.attnNormOut);
    kProj.backward(dNorm, dK, a.attnNormOut);
    vProj.backward(dNorm, dV, a.attnNormOut, fused ? a.vh.reshape('c', n, (long) kvHeads * hd) : null);
    Profiler.mark("bwd q/k/v");
    dIn.assign(dMid);
    RmsNorm.backward(dIn, dNorm, a.input, a.attnNormRstd, weights.inputNorm);
    Profiler.mark("bwd rmsnorm");
  }
}

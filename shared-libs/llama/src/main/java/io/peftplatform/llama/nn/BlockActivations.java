package io.peftplatform.llama.nn;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What one decoder block's forward writes: views over {@link Arena} buffers. Buffers under the
 * {@code kept} prefix are what backward reads and must survive until then (in training each block has
 * its own: "l3." …); buffers under the {@code scratch} prefix are dead once the block's forward is done
 * and are shared by all blocks. In inference both prefixes are the same and every block reuses one set.
 *
 * <p>Shapes: N = B·Tq rows, D hidden, F intermediate, Hq/Hkv heads, G = Hq/Hkv, hd head dim.
 */
public final class BlockActivations {
  // kept for backward
  public final INDArray input; // (N, D) the residual stream entering the block
  public final INDArray attnNormRstd; // (N)
  // qh, kh, vh: where attention is fused (fp32, no cache) the same buffers hold the token rows (N, Hq·hd),
  // (N, Hkv·hd) the projections write, with no regrouping
  public final INDArray qh; // (B·Hkv, G·Tq, hd) queries after RoPE, grouped by kv head
  public final INDArray kh; // (B·Hkv, Tk, hd) keys after RoPE (unused with a KV cache)
  public final INDArray vh; // (B·Hkv, Tk, hd) values (unused with a KV cache)
  public final INDArray probs; // (B·Hkv, G·Tq, Tk) attention probabilities
  public final INDArray attnOut; // (N, Hq·hd) input of o_proj
  public final INDArray mid; // (N, D) the residual stream after attention
  public final INDArray mlpNormRstd; // (N)
  public final INDArray gate; // (N, F) gate_proj output, before SiLU
  public final INDArray up; // (N, F) up_proj output
  // scratch: dead once the block's forward is done; backward recomputes the first four from what is kept
  // (one RMSNorm or SwiGLU pass each: a third of a layer's activations, for ~2% of a step)
  public final INDArray attnNormOut; // (N, D) input of q/k/v_proj
  public final INDArray mlpNormOut; // (N, D) input of gate/up_proj
  public final INDArray gateSigmoid; // (N, F) sigmoid(gate)
  public final INDArray act; // (N, F) silu(gate)·up, input of down_proj
  public final INDArray q; // (N, Hq·hd)
  public final INDArray k; // (N, Hkv·hd)
  public final INDArray v; // (N, Hkv·hd)
  public final INDArray ctx; // (B·Hkv, G·Tq, hd)

  public BlockActivations(
      Arena arena, String kept, String scratch, int batch, int tq, int tk, int hidden, int inter, int heads, int kvHeads, int headDim) {
    long n = (long) batch * tq;
    long groups = (long) batch * kvHeads;
    long groupRows = (long) (heads / kvHeads) * tq;
    input = arena.get(kept + "input", n, hidden);
    attnNormRstd = arena.get(kept + "attnNormRstd", n);
    qh = arena.get(kept + "qh", groups, groupRows, headDim);
    kh = arena.get(kept + "kh", groups, tk, headDim);
    vh = arena.get(kept + "vh", groups, tk, headDim);
    probs = arena.get(kept + "probs", groups, groupRows, tk);
    attnOut = arena.get(kept + "attnOut", n, (long) heads * headDim);
    mid = arena.get(kept + "mid", n, hidden);
    mlpNormRstd = arena.get(kept + "mlpNormRstd", n);
    gate = arena.get(kept + "gate", n, inter);
    up = arena.get(kept + "up", n, inter);
    attnNormOut = arena.get(scratch + "attnNormOut", n, hidden);
    mlpNormOut = arena.get(scratch + "mlpNormOut", n, hidden);
    gateSigmoid = arena.get(scratch + "gateSigmoid", n, inter);
    act = arena.get(scratch + "act", n, inter);
    q = arena.get(scratch + "q", n, (long) heads * headDim);
    k = arena.get(scratch + "k", n, (long) kvHeads * headDim);
    v = arena.get(scratch + "v", n, (long) kvHeads * headDim);
    ctx = arena.get(scratch + "ctx", groups, groupRows, headDim);
  }
}

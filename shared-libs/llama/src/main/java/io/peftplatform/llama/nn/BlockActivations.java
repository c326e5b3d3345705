package io.peftplatform.llama.nn;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What one decoder block's forward writes, and what its backward reads. Views over {@link Arena}
 * buffers: in inference every block shares one set (prefix "blk."), in training each block keeps its
 * own ("l3." …). Shapes use N = B·T rows, D hidden, F intermediate, B batch, Tq queries, Tk keys.
 */
public final class BlockActivations {
  public final INDArray input; // (N, D) the residual stream entering the block
  public final INDArray attnNormRstd; // (N)
  public final INDArray attnNormOut; // (N, D) input of q/k/v_proj
  public final INDArray q; // (N, Hq·hd) after RoPE
  public final INDArray k; // (N, Hkv·hd) after RoPE
  public final INDArray v; // (N, Hkv·hd)
  public final INDArray qh; // (B·Hkv, G·Tq, hd) q regrouped by kv head
  public final INDArray probs; // (B·Hkv, G·Tq, Tk) attention probabilities
  public final INDArray ctx; // (B·Hkv, G·Tq, hd)
  public final INDArray attnOut; // (N, Hq·hd) input of o_proj
  public final INDArray mid; // (N, D) the residual stream after attention
  public final INDArray mlpNormRstd; // (N)
  public final INDArray mlpNormOut; // (N, D) input of gate/up_proj
  public final INDArray gate; // (N, F) gate_proj output, before SiLU
  public final INDArray up; // (N, F)
  public final INDArray act; // (N, F) silu(gate)·up, input of down_proj

  public BlockActivations(
      Arena arena, String prefix, int batch, int tq, int tk, int hidden, int inter, int heads, int kvHeads, int headDim) {
    long n = (long) batch * tq;
    int group = heads / kvHeads;
    input = arena.get(prefix + "input", n, hidden);
    attnNormRstd = arena.get(prefix + "attnNormRstd", n);
    attnNormOut = arena.get(prefix + "attnNormOut", n, hidden);
    q = arena.get(prefix + "q", n, (long) heads * headDim);
    k = arena.get(prefix + "k", n, (long) kvHeads * headDim);
    v = arena.get(prefix + "v", n, (long) kvHeads * headDim);
    qh = arena.get(prefix + "qh", (long) batch * kvHeads, (long) group * tq, headDim);
    probs = arena.get(prefix + "probs", (long) batch * kvHeads, (long) group * tq, tk);
    ctx = arena.get(prefix + "ctx", (long) batch * kvHeads, (long) group * tq, headDim);
    attnOut = arena.get(prefix + "attnOut", n, (long) heads * headDim);
    mid = arena.get(prefix + "mid", n, hidden);
    mlpNormRstd = arena.get(prefix + "mlpNormRstd", n);
    mlpNormOut = arena.get(prefix + "mlpNormOut", n, hidden);
    gate = arena.get(prefix + "gate", n, inter);
    up = arena.get(prefix + "up", n, inter);
    act = arena.get(prefix + "act", n, inter);
  }
}

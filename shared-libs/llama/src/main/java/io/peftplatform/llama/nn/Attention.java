package io.peftplatform.llama.nn;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Scaled dot-product attention for grouped-query heads. The G query heads that share one key/value head
 * are stacked along the row axis, so one batched matmul per (sequence, kv head) serves the whole group
 * and keys and values are never repeated.
 */
public final class Attention {
  /** Added to the scores of masked keys: exp underflows to exactly 0, and no -inf creates NaNs. */
  public static final double MASKED = -1e30;

  private Attention() {}

  /**
   * @param ctx (B·Hkv, G·Tq, hd) output: attention-weighted values
   * @param probs (B·Hkv, G·Tq, Tk) output: attention probabilities, kept for backward
   * @param qh (B·Hkv, G·Tq, hd) queries, rows ordered (group member, query position)
   * @param kh (B·Hkv, Tk, hd) keys
   * @param vh (B·Hkv, Tk, hd) values
   * @param mask (B, Tq, Tk) additive mask: 0 where query may attend to key, {@link #MASKED} elsewhere
   * @param heads Hq = Hkv·G
   * @param scale 1/sqrt(hd)
   */
  public static void forward(
      INDArray ctx,
      INDArray probs,
      INDArray qh,
      INDArray kh,
      INDArray vh,
      INDArray mask,
      int heads,
      double scale) {
    forward(ctx, probs, qh, kh, vh, mask, heads, scale, fused(ctx, probs, qh, kh, vh, mask));
  }

  /** @param fused through {@link AttentionKernels} (see {@link #fused}), else by batched products */
  static void forward(
      INDArray ctx,
      INDArray probs,
      INDArray qh,
      INDArray kh,
      INDArray vh,
      INDArray mask,
      int heads,
      double scale,
      boolean fused) {
    if (fused) {
      AttentionKernels.forward(
          Rows.of(ctx), Rows.of(probs), Rows.of(qh), Rows.of(kh), Rows.of(vh), Rows.of(mask), shape(qh, kh, mask, heads), (float) scale);
      return;
    }
    Ops.batchedMatmul(probs, qh, false, kh, true, scale); // scores
    maskedSoftmax(probs, mask, heads);
    Ops.batchedMatmul(ctx, probs, false, vh, false, 1.0);
  }

  /**
   * Whether attention over these arrays takes {@link AttentionKernels}' path, which computes only the keys
   * each query sees: the Vector API present, every array fp32, dense and C-order (keys and values read
   * from a KV cache's longer buffer are views, and take the batched products).
   */
  public static boolean fused(INDArray... arrays) {
    if (!Rows.simd(arrays)) {
      return false;
    }
    for (INDArray a : arrays) {
      if (!Rows.dense(a)) {
        return false;
      }
    }
    return true;
  }

  private static AttentionKernels.Shape shape(INDArray qh, INDArray kh, INDArray mask, int heads) {
    int batch = (int) mask.size(0);
    int kvHeads = (int) qh.size(0) / batch;
    return new AttentionKernels.Shape(
        batch, kvHeads, heads / kvHeads, (int) mask.size(1), (int) kh.size(1), (int) qh.size(2), false);
  }

  private static AttentionKernels.Shape tokenShape(INDArray mask, int heads, int kvHeads, int headDim) {
    return new AttentionKernels.Shape(
        (int) mask.size(0), kvHeads, heads / kvHeads, (int) mask.size(1), (int) mask.size(2), headDim, true);
  }

  /**
   * {@link #forward} on the projections' token rows, with no regrouping before or after: the fused path
   * only ({@link #fused} must hold for these arrays).
   *
   * @param ctx (B·Tq, Hq·hd) output: o_proj's input
   * @param probs (B·Hkv, G·Tq, Tk) output, kept for backward
   * @param q (B·Tq, Hq·hd) queries after RoPE
   * @param k (B·Tk, Hkv·hd) keys after RoPE
   * @param v (B·Tk, Hkv·hd) values
   * @param mask (B, Tq, Tk) additive
   */
  public static void forwardTokens(
      INDArray ctx, INDArray probs, INDArray q, INDArray k, INDArray v, INDArray mask, int heads, int kvHeads, double scale) {
    AttentionKernels.forward(Rows.of(ctx), Rows.of(probs), Rows.of(q), Rows.of(k), Rows.of(v), Rows.of(mask),
        tokenShape(mask, heads, kvHeads, (int) (q.size(1) / heads)), (float) scale);
  }

  /** The gradients of {@link #forwardTokens}, in the same token rows; overwrites dq, dk, dv. */
  public static void backwardTokens(
      INDArray dq, INDArray dk, INDArray dv, INDArray dctx, INDArray probs, INDArray q, INDArray k, INDArray v, INDArray mask,
      int heads, int kvHeads, double scale) {
    AttentionKernels.backward(Rows.of(dq), Rows.of(dk), Rows.of(dv), Rows.of(dctx), Rows.of(probs), Rows.of(q), Rows.of(k),
        Rows.of(v), Rows.of(mask), tokenShape(mask, heads, kvHeads, (int) (q.size(1) / heads)), (float) scale);
  }

  /**
   * probs ← softmax(scores + mask) along each row, in place, in one pass per row. Row r of the
   * (B·Hq·Tq, Tk) scores is query r mod Tq of sequence r / (Hq·Tq), whatever its head. Masked keys get
   * exactly 0 without an exp; a row with no visible key (a padding query at position 0) comes out uniform,
   * as a plain softmax of the masked scores gives.
   */
  static void maskedSoftmax(INDArray probs, INDArray mask, int heads) {
    maskedSoftmax(probs, mask, heads, Rows.simd(probs, mask));
  }

  /** @param simd through {@link VectorKernels} (fp32 arrays, the Vector API present), else row by row in double */
  static void maskedSoftmax(INDArray probs, INDArray mask, int heads, boolean simd) {
    int tq = (int) mask.size(1);
    int tk = (int) mask.size(2);
    int rows = (int) (probs.length() / tk);
    Rows p = Rows.of(probs);
    Rows m = Rows.of(mask);
    if (simd) {
      Rows.parallel(rows, tk, (from, to) -> {
        float[] x = new float[tk];
        float[] add = new float[tk];
        for (int r = from; r < to; r++) {
          p.readFloats(r * tk, x, tk);
          m.readFloats(((r / (heads * tq)) * tq + r % tq) * tk, add, tk);
          VectorKernels.maskedSoftmaxRow(x, add, tk);
          p.writeFloats(r * tk, x, tk);
        }
      });
      return;
    }
    Rows.parallel(rows, tk, (from, to) -> {
      double[] x = new double[tk];
      double[] add = new double[tk];
      for (int r = from; r < to; r++) {
        p.read(r * tk, x, tk);
        m.read(((r / (heads * tq)) * tq + r % tq) * tk, add, tk);
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < tk; j++) {
          x[j] += add[j];
          max = Math.max(max, x[j]);
        }
        boolean anyVisible = max > MASKED / 2;
        double sum = 0;
        for (int j = 0; j < tk; j++) {
          double e = anyVisible && add[j] <= MASKED / 2 ? 0.0 : Math.exp(x[j] - max);
          x[j] = e;
          sum += e;
        }
        double inv = 1.0 / sum;
        for (int j = 0; j < tk; j++) {
          x[j] *= inv;
        }
        p.write(r * tk, x, tk);
      }
    });
  }

  /** dprobs ← probs ⊙ (dprobs − rowsum(dprobs ⊙ probs)) in place: the softmax's backward, one pass per row. */
  static void softmaxBackward(INDArray dprobs, INDArray probs) {
    softmaxBackward(dprobs, probs, Rows.simd(probs, dprobs));
  }

  static void softmaxBackward(INDArray dprobs, INDArray probs, boolean simd) {
    int cols = (int) probs.size(probs.rank() - 1);
    int rows = (int) (probs.length() / cols);
    Rows p = Rows.of(probs);
    Rows dp = Rows.of(dprobs);
    if (simd) {
      Rows.parallel(rows, cols, (from, to) -> {
        float[] pr = new float[cols];
        float[] g = new float[cols];
        for (int r = from; r < to; r++) {
          p.readFloats(r * cols, pr, cols);
          dp.readFloats(r * cols, g, cols);
          VectorKernels.softmaxBackwardRow(g, pr, cols);
          dp.writeFloats(r * cols, g, cols);
        }
      });
      return;
    }
    Rows.parallel(rows, cols, (from, to) -> {
      double[] pr = new double[cols];
      double[] g = new double[cols];
      for (int r = from; r < to; r++) {
        p.read(r * cols, pr, cols);
        dp.read(r * cols, g, cols);
        double dot = 0;
        for (int j = 0; j < cols; j++) {
          dot += g[j] * pr[j];
        }
        for (int j = 0; j < cols; j++) {
          g[j] = pr[j] * (g[j] - dot);
        }
        dp.write(r * cols, g, cols);
      }
    });
  }

  /**
   * Gradients of {@link #forward}; overwrites dqh, dkh, dvh.
   *
   * @param dqh (B·Hkv, G·Tq, hd) output
   * @param dkh (B·Hkv, Tk, hd) output
   * @param dvh (B·Hkv, Tk, hd) output
   * @param dctx (B·Hkv, G·Tq, hd)
   * @param probs (B·Hkv, G·Tq, Tk) from forward
   * @param mask, heads as given to forward
   */
  public static void backward(
      INDArray dqh,
      INDArray dkh,
      INDArray dvh,
      INDArray dctx,
      INDArray probs,
      INDArray qh,
      INDArray kh,
      INDArray vh,
      INDArray mask,
      int heads,
      double scale,
      Arena arena) {
    backward(dqh, dkh, dvh, dctx, probs, qh, kh, vh, mask, heads, scale, arena, fused(dqh, dkh, dvh, dctx, probs, qh, kh, vh, mask));
  }

  static void backward(
      INDArray dqh,
      INDArray dkh,
      INDArray dvh,
      INDArray dctx,
      INDArray probs,
      INDArray qh,
      INDArray kh,
      INDArray vh,
      INDArray mask,
      int heads,
      double scale,
      Arena arena,
      boolean fused) {
    if (fused) {
      AttentionKernels.backward(
          Rows.of(dqh), Rows.of(dkh), Rows.of(dvh), Rows.of(dctx), Rows.of(probs), Rows.of(qh), Rows.of(kh), Rows.of(vh),
          Rows.of(mask), shape(qh, kh, mask, heads), (float) scale);
      return;
    }
    INDArray dprobs = arena.get("attn.dprobs", probs.shape());
    Ops.batchedMatmul(dvh, probs, true, dctx, false, 1.0); // dV = Pᵀ · dctx
    Ops.batchedMatmul(dprobs, dctx, false, vh, true, 1.0); // dP = dctx · Vᵀ
    softmaxBackward(dprobs, probs); // dS = P ⊙ (dP − rowsum(dP ⊙ P)), in place of dP
    Ops.batchedMatmul(dqh, dprobs, false, kh, false, scale); // dQ = scale · dS · K
    Ops.batchedMatmul(dkh, dprobs, true, qh, false, scale); // dK = scale · dSᵀ · Q
  }

  /**
   * Builds the additive mask: query i (at position {@code offset + i}) may attend to key j when j is a
   * real token of the same example, j ≤ the query's position, and, with a sliding window w > 0,
   * position − j < w.
   *
   * @param mask (B, Tq, Tk) output
   * @param keyMask (B·Tk) per key: 0 for padding, else the number of the example it belongs to — 1 for
   *     every real token of an unpacked row, 1, 2, 3 … along a packed row (examples never see each
   *     other); null for all real. Queries take their example from it when Tq = Tk.
   */
  public static void causalMask(INDArray mask, int[] keyMask, int offset, int slidingWindow) {
    int b = (int) mask.size(0);
    int tq = (int) mask.size(1);
    int tk = (int) mask.size(2);
    double[] m = new double[b * tq * tk];
    for (int s = 0; s < b; s++) {
      for (int i = 0; i < tq; i++) {
        int position = offset + i;
        int row = (s * tq + i) * tk;
        // A padding query (example 0) sees the real keys before it, as it always has: it scores nothing.
        int example = keyMask != null && tq == tk ? keyMask[s * tk + i] : 0;
        for (int j = 0; j < tk; j++) {
          boolean visible =
              j <= position
                  && (keyMask == null || (keyMask[s * tk + j] != 0 && (example == 0 || keyMask[s * tk + j] == example)))
                  && (slidingWindow <= 0 || position - j < slidingWindow);
          m[row + j] = visible ? 0.0 : MASKED;
        }
      }
    }
    mask.assign(Nd4j.createFromArray(m).castTo(mask.dataType()).reshape(b, tq, tk));
  }
}

package io.peftplatform.llama.nn;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The fused attention kernels, which compute only each query's visible keys, against the batched-product
 * path on the same fp32 inputs (that path's gradients are checked by finite differences in
 * LayerGradientTest): every mask the model builds — causal, padding, packed rows, a sliding window,
 * queries after a cached prefix — and shapes that are not whole tiles (head dims and key counts that are
 * not multiples of the vector width, a row count not a multiple of the block).
 */
class AttentionKernelsTest {
  static final double TOLERANCE = 2e-5;

  @Test
  void causalRowsWithGroupedHeads() {
    check(2, 3, 3, 64, 0, 64, null, 0);
  }

  @Test
  void paddingAndPackedRowsIncludingAPaddingQueryWithNoVisibleKey() {
    int t = 37;
    int[] keyMask = new int[3 * t];
    for (int j = 0; j < t; j++) {
      keyMask[j] = j < 20 ? 1 : 2; // two examples packed
      keyMask[t + j] = j < 30 ? 1 : 0; // right padding
      keyMask[2 * t + j] = j < 5 ? 0 : (j < 15 ? 1 : (j < 16 ? 0 : 3)); // left padding, a hole, another example
    }
    check(3, 2, 2, t, 0, 24, keyMask, 0);
  }

  @Test
  void slidingWindow() {
    check(1, 1, 4, 70, 0, 16, null, 9);
  }

  @Test
  void queriesAfterACachedPrefix() {
    check(1, 2, 3, 5, 41, 8, null, 0);
  }

  @Test
  void tokenRowsGiveWhatTheGroupedLayoutGives() {
    int b = 2;
    int kvHeads = 2;
    int group = 3;
    int t = 45;
    int hd = 16;
    int heads = kvHeads * group;
    INDArray q = VectorKernelsTest.random(21, 1.5, (long) b * t, (long) heads * hd);
    INDArray k = VectorKernelsTest.random(22, 1.5, (long) b * t, (long) kvHeads * hd);
    INDArray v = VectorKernelsTest.random(23, 1.0, (long) b * t, (long) kvHeads * hd);
    INDArray dctx = VectorKernelsTest.random(24, 1.0, (long) b * t, (long) heads * hd);
    INDArray mask = Nd4j.create(DataType.FLOAT, b, t, t);
    int[] keyMask = new int[b * t];
    for (int j = 0; j < t; j++) {
      keyMask[j] = j < 30 ? 1 : 2;
      keyMask[t + j] = j < 40 ? 1 : 0;
    }
    Attention.causalMask(mask, keyMask, 0, 0);
    double scale = 1 / Math.sqrt(hd);
    INDArray ctx = Nd4j.create(DataType.FLOAT, q.shape());
    INDArray probs = Nd4j.create(DataType.FLOAT, (long) b * kvHeads, (long) group * t, t);
    Attention.forwardTokens(ctx, probs, q, k, v, mask, heads, kvHeads, scale);
    INDArray dq = Nd4j.create(DataType.FLOAT, q.shape());
    INDArray dk = Nd4j.create(DataType.FLOAT, k.shape());
    INDArray dv = Nd4j.create(DataType.FLOAT, v.shape());
    Attention.backwardTokens(dq, dk, dv, dctx, probs, q, k, v, mask, heads, kvHeads, scale);

    // the grouped layout, regrouped as the decoder block does, through the batched products
    INDArray[] grouped = run(queries(q, b, t, kvHeads, group, hd), keys(k, b, t, kvHeads, hd), keys(v, b, t, kvHeads, hd),
        queries(dctx, b, t, kvHeads, group, hd), mask, heads, scale, false);
    assertSame("ctx", ctx, grouped[0].reshape('c', b, kvHeads, group, t, hd).permute(0, 3, 1, 2, 4));
    assertSame("probs", probs, grouped[1]);
    assertSame("dq", dq, grouped[2].reshape('c', b, kvHeads, group, t, hd).permute(0, 3, 1, 2, 4));
    assertSame("dk", dk, grouped[3].reshape('c', b, kvHeads, t, hd).permute(0, 2, 1, 3));
    assertSame("dv", dv, grouped[4].reshape('c', b, kvHeads, t, hd).permute(0, 2, 1, 3));
  }

  private static INDArray queries(INDArray rows, int b, int t, int kvHeads, int group, int hd) {
    return rows.reshape('c', b, t, kvHeads, group, hd).permute(0, 2, 3, 1, 4).dup('c')
        .reshape('c', (long) b * kvHeads, (long) group * t, hd);
  }

  private static INDArray keys(INDArray rows, int b, int t, int kvHeads, int hd) {
    return rows.reshape('c', b, t, kvHeads, hd).permute(0, 2, 1, 3).dup('c').reshape('c', (long) b * kvHeads, t, hd);
  }

  private static void assertSame(String name, INDArray tokens, INDArray reference) {
    double[] f = tokens.castTo(DataType.DOUBLE).dup('c').data().asDouble();
    double[] r = reference.castTo(DataType.DOUBLE).dup('c').data().asDouble();
    assertThat(f.length).isEqualTo(r.length);
    double worst = 0;
    double size = 0;
    for (int j = 0; j < r.length; j++) {
      worst = Math.max(worst, Math.abs(f[j] - r[j]));
      size = Math.max(size, Math.abs(r[j]));
    }
    assertThat(worst / size).as(name + ": largest difference relative to the largest value").isLessThan(TOLERANCE);
  }

  @Test
  void fusedIsTheTrainingPathForFp32() {
    INDArray a = Nd4j.create(DataType.FLOAT, 2, 3, 4);
    assertThat(Attention.fused(a, a)).isTrue();
    assertThat(Attention.fused(a, a.castTo(DataType.DOUBLE))).isFalse();
    assertThat(Attention.fused(a, Nd4j.create(DataType.FLOAT, 2, 9, 4).get(
        org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 3),
        org.nd4j.linalg.indexing.NDArrayIndex.all()))).as("a view into a longer cache").isFalse();
  }

  /** B sequences, Hkv kv heads of G queries each, Tq queries after {@code offset} cached keys. */
  private static void check(int b, int kvHeads, int group, int tq, int offset, int hd, int[] keyMask, int window) {
    int tk = offset + tq;
    INDArray qh = VectorKernelsTest.random(11, 1.5, (long) b * kvHeads, (long) group * tq, hd);
    INDArray kh = VectorKernelsTest.random(12, 1.5, (long) b * kvHeads, tk, hd);
    INDArray vh = VectorKernelsTest.random(13, 1.0, (long) b * kvHeads, tk, hd);
    INDArray dctx = VectorKernelsTest.random(14, 1.0, qh.shape());
    INDArray mask = Nd4j.create(DataType.FLOAT, b, tq, tk);
    Attention.causalMask(mask, keyMask, offset, window);
    int heads = kvHeads * group;
    double scale = 1 / Math.sqrt(hd);

    INDArray[] fused = run(qh, kh, vh, dctx, mask, heads, scale, true);
    INDArray[] batched = run(qh, kh, vh, dctx, mask, heads, scale, false);
    String[] names = {"ctx", "probs", "dq", "dk", "dv"};
    for (int i = 0; i < names.length; i++) {
      double[] f = fused[i].castTo(DataType.DOUBLE).data().asDouble();
      double[] r = batched[i].castTo(DataType.DOUBLE).data().asDouble();
      double worst = 0;
      double size = 0;
      for (int j = 0; j < r.length; j++) {
        assertThat(f[j]).as(names[i] + " element " + j + " written").isFinite();
        worst = Math.max(worst, Math.abs(f[j] - r[j]));
        size = Math.max(size, Math.abs(r[j]));
      }
      assertThat(size).as(names[i] + " is not all zeros").isGreaterThan(1e-3);
      assertThat(worst / size).as(names[i] + ": largest difference relative to the largest value").isLessThan(TOLERANCE);
    }
  }

  private static INDArray[] run(
      INDArray qh, INDArray kh, INDArray vh, INDArray dctx, INDArray mask, int heads, double scale, boolean fused) {
    INDArray ctx = Nd4j.create(DataType.FLOAT, qh.shape()).assign(Double.NaN);
    INDArray probs = Nd4j.create(DataType.FLOAT, qh.size(0), qh.size(1), kh.size(1)).assign(Double.NaN);
    Attention.forward(ctx, probs, qh, kh, vh, mask, heads, scale, fused);
    INDArray dq = Nd4j.create(DataType.FLOAT, qh.shape()).assign(Double.NaN);
    INDArray dk = Nd4j.create(DataType.FLOAT, kh.shape()).assign(Double.NaN);
    INDArray dv = Nd4j.create(DataType.FLOAT, vh.shape()).assign(Double.NaN);
    Attention.backward(dq, dk, dv, dctx, probs, qh, kh, vh, mask, heads, scale, new Arena(DataType.FLOAT), fused);
    return new INDArray[] {ctx, probs, dq, dk, dv};
  }
}

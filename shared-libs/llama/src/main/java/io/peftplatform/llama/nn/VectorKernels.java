package io.peftplatform.llama.nn;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The fp32 element-wise kernels whose cost is exp — the attention softmax, SwiGLU, the cross-entropy's
 * softmax — and RMSNorm's, in the JDK's Vector API, on SIMD lanes (about 1 ns an element where {@code Math.exp} takes
 * 10–20). Deterministic: exp is Cephes' single-precision polynomial written in lane-wise IEEE operations
 * (not the API's EXP, whose result differs between the interpreter's fallback and the compiled
 * intrinsic), and sums add the lanes in a fixed order (not reduceLanes(ADD), whose order is free), so a
 * rerun gives the same bits whatever the JIT has compiled by then. Used only when the JVM runs with {@code --add-modules
 * jdk.incubator.vector} ({@link Rows#VECTOR}): nothing else may touch this class, which cannot load
 * without that module. Each method works on float rows that {@link Rows} reads and writes; tails shorter
 * than a vector run the same formulas one value at a time.
 */
final class VectorKernels {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final FloatVector ONE = FloatVector.broadcast(S, 1f);
  /** S's lanes as ints (the same shape) and as shorts (half the shape): BF16 is an fp32's top 16 bits. */
  private static final VectorSpecies<Integer> INTS = S.withLanes(int.class);
  private static final VectorSpecies<Short> SHORTS = VectorSpecies.of(short.class, VectorShape.forBitSize(S.vectorBitSize() / 2));

  // Cephes expf: exp(x) = 2^k · exp(r), k = round(x / ln 2), r = x − k·ln 2 (ln 2 split in two parts)
  private static final float LOG2E = 1.44269504088896341f;
  private static final float LN2_HI = 0.693359375f;
  private static final float LN2_LO = -2.12194440e-4f;
  /** Above this the scale 2^k would leave fp32 (k ≤ 127): inputs are clamped to it. */
  private static final float MAX_ARG = 88.0f;
  /** Below this exp is under fp32's smallest normal: the result is 0. */
  private static final float MIN_ARG = -87.3365447f;
  /** 1.5·2^23: adding and then subtracting it rounds a float to the nearest integer. */
  private static final float ROUNDER = 12582912f;
  private static final int ROUNDER_BITS = Float.floatToRawIntBits(ROUNDER);

  /** exp of every lane, to about one ulp; 0 below {@link #MIN_ARG}. */
  static FloatVector exp(FloatVector x) {
    FloatVector c = x.min(MAX_ARG).max(MIN_ARG);
    FloatVector kr = c.mul(LOG2E).add(ROUNDER); // k in the low mantissa bits
    FloatVector k = kr.sub(ROUNDER);
    FloatVector r = k.mul(-LN2_HI).add(c);
    r = k.mul(-LN2_LO).add(r);
    FloatVector p = FloatVector.broadcast(S, 1.9875691500E-4f);
    p = p.mul(r).add(1.3981999507E-3f);
    p = p.mul(r).add(8.3334519073E-3f);
    p = p.mul(r).add(4.1665795894E-2f);
    p = p.mul(r).add(1.6666665459E-1f);
    p = p.mul(r).add(5.0000001201E-1f);
    FloatVector y = p.mul(r.mul(r)).add(r).add(1f);
    // 2^k from kr's bits (no float-to-int conversion: Java 17 does not compile that one to SIMD)
    FloatVector scale = kr.reinterpretAsInts().sub(ROUNDER_BITS - 127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
    return y.mul(scale).blend(0f, x.compare(VectorOperators.LT, MIN_ARG));
  }

  /** The lanes' sum, added in lane order. */
  static float sum(FloatVector v) {
    float[] lanes = v.toArray();
    float s = 0;
    for (float lane : lanes) {
      s += lane;
    }
    return s;
  }

  /** exp of one value with the same formulas (the rows' tails). */
  static float exp(float x) {
    float c = Math.max(MIN_ARG, Math.min(MAX_ARG, x));
    float kr = c * LOG2E + ROUNDER;
    float k = kr - ROUNDER;
    float r = k * -LN2_HI + c;
    r = k * -LN2_LO + r;
    float p = 1.9875691500E-4f;
    p = p * r + 1.3981999507E-3f;
    p = p * r + 8.3334519073E-3f;
    p = p * r + 4.1665795894E-2f;
    p = p * r + 1.6666665459E-1f;
    p = p * r + 5.0000001201E-1f;
    float y = p * (r * r) + r + 1f;
    float e = y * Float.intBitsToFloat((Float.floatToRawIntBits(kr) - (ROUNDER_BITS - 127)) << 23);
    return x < MIN_ARG ? 0f : e;
  }

  private VectorKernels() {}

  /** x ← softmax(x + add) over [0, n), in place. */
  static void maskedSoftmaxRow(float[] x, float[] add, int n) {
    maskedSoftmaxRow(x, 0, add, 0, n, 1f);
  }

  /**
   * x[from + j] ← softmax_j(scale · x[from + j] + add[addFrom + j]) over j in [0, n), in place (scale 1
   * is exact: the same bits as the plain sum).
   */
  static void maskedSoftmaxRow(float[] x, int from, float[] add, int addFrom, int n, float scale) {
    int bound = S.loopBound(n);
    FloatVector vmax = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
    int j = 0;
    for (; j < bound; j += S.length()) {
      FloatVector v = FloatVector.fromArray(S, x, from + j).mul(scale).add(FloatVector.fromArray(S, add, addFrom + j));
      v.intoArray(x, from + j);
      vmax = vmax.max(v);
    }
    float max = vmax.reduceLanes(VectorOperators.MAX);
    for (; j < n; j++) {
      x[from + j] = x[from + j] * scale + add[addFrom + j];
      max = Math.max(max, x[from + j]);
    }
    float sum = expShifted(x, from, n, max);
    scale(x, from, n, 1f / sum);
  }

  /** x ← exp(x − max) over [0, n), in place; returns Σ. */
  static float expShifted(float[] x, int n, float max) {
    return expShifted(x, 0, n, max);
  }

  /** x[from + j] ← exp(x[from + j] − max) over j in [0, n), in place; returns Σ. */
  static float expShifted(float[] x, int from, int n, float max) {
    int bound = S.loopBound(n);
    FloatVector vsum = FloatVector.zero(S);
    int j = 0;
    for (; j < bound; j += S.length()) {
      FloatVector e = exp(FloatVector.fromArray(S, x, from + j).sub(max));
      e.intoArray(x, from + j);
      vsum = vsum.add(e);
    }
    float sum = sum(vsum);
    for (; j < n; j++) {
      x[from + j] = exp(x[from + j] - max);
      sum += x[from + j];
    }
    return sum;
  }

  /** The largest of x[0, n). */
  static float max(float[] x, int n) {
    int bound = S.loopBound(n);
    FloatVector vmax = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
    int j = 0;
    for (; j < bound; j += S.length()) {
      vmax = vmax.max(FloatVector.fromArray(S, x, j));
    }
    float max = vmax.reduceLanes(VectorOperators.MAX);
    for (; j < n; j++) {
      max = Math.max(max, x[j]);
    }
    return max;
  }

  /** x ← k · x over [0, n). */
  static void scale(float[] x, int n, float k) {
    scale(x, 0, n, k);
  }

  /** x[from, from + n) ← k · x. */
  static void scale(float[] x, int from, int n, float k) {
    int bound = S.loopBound(n);
    int j = 0;
    for (; j < bound; j += S.length()) {
      FloatVector.fromArray(S, x, from + j).mul(k).intoArray(x, from + j);
    }
    for (; j < n; j++) {
      x[from + j] *= k;
    }
  }

  /** y[yFrom, yFrom + n) += c · x[xFrom, xFrom + n), each term one fused multiply-add. */
  static void axpy(float[] y, int yFrom, float c, float[] x, int xFrom, int n) {
    int bound = S.loopBound(n);
    FloatVector vc = FloatVector.broadcast(S, c);
    int j = 0;
    for (; j < bound; j += S.length()) {
      FloatVector.fromArray(S, x, xFrom + j).fma(vc, FloatVector.fromArray(S, y, yFrom + j)).intoArray(y, yFrom + j);
    }
    for (; j < n; j++) {
      y[yFrom + j] = Math.fma(x[xFrom + j], c, y[yFrom + j]);
    }
  }

  /** The floats in one vector. */
  static int lanes() {
    return S.length();
  }

  /**
   * out[o0 + r·cols + col] (+)= Σ_{t < q} a[r·lda + t] · b[t·ldb + col] for r < rows (a multiple of 4) and col <
   * cols (a multiple of the lanes): 4 × 2-vector tiles, then a 4 × 1-vector one. See {@link RowMath#gemm}.
   */
  static void gemm(int rows, int cols, int q, float[] a, int lda, float[] b, int ldb, float[] out, boolean add) {
    int l = S.length();
    for (int r = 0; r < rows; r += 4) {
      int col = 0;
      for (; col + 2 * l <= cols; col += 2 * l) {
        tile2(a, r * lda, lda, b, ldb, col, 0, q, out, r * cols, cols, add);
      }
      if (col < cols) {
        tile1(a, r * lda, lda, b, ldb, col, q, out, r * cols, cols, add);
      }
    }
  }

  private static FloatVector start(float[] out, int at, boolean add) {
    return add ? FloatVector.fromArray(S, out, at) : FloatVector.zero(S);
  }

  /**
   * One 4-row × 2-vector output tile: out[o0 + r·ldo + col + i] (+)= Σ_{t ∈ [t0, t1)} a[a0 + r·lda + t] ·
   * b[t·ldb + col + i] for r < 4, i < 2 lanes; its eight accumulators stay in registers over t, each step a
   * broadcast of a's element times two vectors of b's row.
   */
  static void tile2(float[] a, int a0, int lda, float[] b, int ldb, int col, int t0, int t1, float[] out, int o0, int ldo, boolean add) {
    int l = S.length();
    int o1 = o0 + ldo;
    int o2 = o1 + ldo;
    int o3 = o2 + ldo;
    FloatVector c00 = start(out, o0 + col, add);
    FloatVector c01 = start(out, o0 + col + l, add);
    FloatVector c10 = start(out, o1 + col, add);
    FloatVector c11 = start(out, o1 + col + l, add);
    FloatVector c20 = start(out, o2 + col, add);
    FloatVector c21 = start(out, o2 + col + l, add);
    FloatVector c30 = start(out, o3 + col, add);
    FloatVector c31 = start(out, o3 + col + l, add);
    int a1 = a0 + lda;
    int a2 = a1 + lda;
    int a3 = a2 + lda;
    for (int t = t0; t < t1; t++) {
      int at = t * ldb + col;
      FloatVector b0 = FloatVector.fromArray(S, b, at);
      FloatVector b1 = FloatVector.fromArray(S, b, at + l);
      FloatVector v = FloatVector.broadcast(S, a[a0 + t]);
      c00 = b0.fma(v, c00);
      c01 = b1.fma(v, c01);
      v = FloatVector.broadcast(S, a[a1 + t]);
      c10 = b0.fma(v, c10);
      c11 = b1.fma(v, c11);
      v = FloatVector.broadcast(S, a[a2 + t]);
      c20 = b0.fma(v, c20);
      c21 = b1.fma(v, c21);
      v = FloatVector.broadcast(S, a[a3 + t]);
      c30 = b0.fma(v, c30);
      c31 = b1.fma(v, c31);
    }
    c00.intoArray(out, o0 + col);
    c01.intoArray(out, o0 + col + l);
    c10.intoArray(out, o1 + col);
    c11.intoArray(out, o1 + col + l);
    c20.intoArray(out, o2 + col);
    c21.intoArray(out, o2 + col + l);
    c30.intoArray(out, o3 + col);
    c31.intoArray(out, o3 + col + l);
  }

  /** One 4-row × 1-vector output tile, as {@link #tile2} over t ∈ [0, q). */
  private static void tile1(float[] a, int a0, int lda, float[] b, int ldb, int col, int q, float[] out, int o0, int ldo, boolean add) {
    int o1 = o0 + ldo;
    int o2 = o1 + ldo;
    int o3 = o2 + ldo;
    FloatVector c0 = start(out, o0 + col, add);
    FloatVector c1 = start(out, o1 + col, add);
    FloatVector c2 = start(out, o2 + col, add);
    FloatVector c3 = start(out, o3 + col, add);
    int a1 = a0 + lda;
    int a2 = a1 + lda;
    int a3 = a2 + lda;
    for (int t = 0; t < q; t++) {
      FloatVector bv = FloatVector.fromArray(S, b, t * ldb + col);
      c0 = bv.fma(FloatVector.broadcast(S, a[a0 + t]), c0);
      c1 = bv.fma(FloatVector.broadcast(S, a[a1 + t]), c1);
      c2 = bv.fma(FloatVector.broadcast(S, a[a2 + t]), c2);
      c3 = bv.fma(FloatVector.broadcast(S, a[a3 + t]), c3);
    }
    c0.intoArray(out, o0 + col);
    c1.intoArray(out, o1 + col);
    c2.intoArray(out, o2 + col);
    c3.intoArray(out, o3 + col);
  }

  /** Σ x[j]² over [0, n), the lanes added in order. */
  static float sumOfSquares(float[] x, int n) {
    int bound = S.loopBound(n);
    FloatVector v = FloatVector.zero(S);
    int j = 0;
    for (; j < bound; j += S.length()) {
      FloatVector xj = FloatVector.fromArray(S, x, j);
      v = xj.fma(xj, v);
    }
    float s = sum(v);
    for (; j < n; j++) {
      s = Math.fma(x[j], x[j], s);
    }
    return s;
  }

  /** x ← x · r · w over [0, n) with r = 1 / sqrt(mean(x²) + eps); returns r. RMSNorm's forward of one row. */
  static float rmsNormRow(float[] x, float[] w, int n, float eps) {
    float r = (float) (1.0 / Math.sqrt((double) sumOfSquares(x, n) / n + eps));
    int bound = S.loopBound(n);
    int j = 0;
    for (; j < bound; j += S.length()) {
      FloatVector.fromArray(S, x, j).mul(r).mul(FloatVector.fromArray(S, w, j)).intoArray(x, j);
    }
    for (; j < n; j++) {
      x[j] = x[j] * r * w[j];
    }
    return r;
  }

  /**
   * dx ← dx + r · (g − x̂ · mean(g ⊙ x̂)) over [0, n), with g = dy ⊙ w and x̂ = x · r: RMSNorm's backward of
   * one row (the weight frozen). dy is overwritten.
   */
  static void rmsNormBackwardRow(float[] dx, float[] dy, float[] x, float[] w, float r, int n) {
    int bound = S.loopBound(n);
    FloatVector vc = FloatVector.zero(S);
    int j = 0;
    for (; j < bound; j += S.length()) {
      FloatVector g = FloatVector.fromArray(S, dy, j).mul(FloatVector.fromArray(S, w, j));
      g.intoArray(dy, j);
      vc = g.fma(FloatVector.fromArray(S, x, j).mul(r), vc);
    }
    float c = sum(vc);
    for (; j < n; j++) {
      dy[j] *= w[j];
      c += dy[j] * (x[j] * r);
    }
    c /= n;
    for (j = 0; j < bound; j += S.length()) {
      FloatVector xhat = FloatVector.fromArray(S, x, j).mul(r);
      FloatVector g = FloatVector.fromArray(S, dy, j);
      FloatVector.fromArray(S, dx, j).add(g.sub(xhat.mul(c)).mul(r)).intoArray(dx, j);
    }
    for (; j < n; j++) {
      dx[j] += r * (dy[j] - x[j] * r * c);
    }
  }

  /** g ← p ⊙ (g − Σ g ⊙ p) over [0, n): the softmax's backward. */
  static void softmaxBackwardRow(float[] g, float[] p, int n) {
    softmaxBackwardRow(g, p, 0, n);
  }

  /** The same over [from, from + n) of both arrays. */
  static void softmaxBackwardRow(float[] g, float[] p, int from, int n) {
    int bound = S.loopBound(n);
    FloatVector vdot = FloatVector.zero(S);
    int j = 0;
    for (; j < bound; j += S.length()) {
      vdot = FloatVector.fromArray(S, g, from + j).fma(FloatVector.fromArray(S, p, from + j), vdot);
    }
    float dot = sum(vdot);
    for (; j < n; j++) {
      dot += g[from + j] * p[from + j];
    }
    for (j = 0; j < bound; j += S.length()) {
      FloatVector pv = FloatVector.fromArray(S, p, from + j);
      FloatVector.fromArray(S, g, from + j).sub(dot).mul(pv).intoArray(g, from + j);
    }
    for (; j < n; j++) {
      g[from + j] = p[from + j] * (g[from + j] - dot);
    }
  }

  /** sig ← σ(g), act ← g · σ(g) · up over [0, n); g is overwritten with σ(g) (sig may be g). */
  static void swigluForwardRow(float[] g, float[] up, int n) {
    int bound = S.loopBound(n);
    int j = 0;
    for (; j < bound; j += S.length()) {
      FloatVector gv = FloatVector.fromArray(S, g, j);
      FloatVector sig = ONE.div(exp(gv.neg()).add(1f));
      FloatVector.fromArray(S, up, j).mul(gv).mul(sig).intoArray(up, j);
      sig.intoArray(g, j);
    }
    for (; j < n; j++) {
      float sig = 1f / (1f + exp(-g[j]));
      up[j] = up[j] * g[j] * sig;
      g[j] = sig;
    }
  }

  /**
   * dGate ← dAct · up · (σ + silu · (1 − σ)), dUp ← dAct · silu with silu = g · σ, over [0, n); written
   * into g (dGate) and up (dUp).
   */
  static void swigluBackwardRow(float[] g, float[] sig, float[] up, float[] dAct, int n) {
    int bound = S.loopBound(n);
    int j = 0;
    for (; j < bound; j += S.length()) {
      FloatVector s = FloatVector.fromArray(S, sig, j);
      FloatVector silu = FloatVector.fromArray(S, g, j).mul(s);
      FloatVector da = FloatVector.fromArray(S, dAct, j);
      FloatVector u = FloatVector.fromArray(S, up, j);
      FloatVector dGate = da.mul(u).mul(silu.mul(s.neg().add(1f)).add(s));
      dGate.intoArray(g, j);
      da.mul(silu).intoArray(up, j);
    }
    for (; j < n; j++) {
      float silu = g[j] * sig[j];
      g[j] = dAct[j] * up[j] * (sig[j] + silu * (1 - sig[j]));
      up[j] = dAct[j] * silu;
    }
  }

  /** dst[dstFrom + j] ← src[j] widened from BF16 bits to fp32 (exact), j in [0, n). */
  static void widenBf16(short[] src, float[] dst, int dstFrom, int n) {
    int bound = S.loopBound(n);
    int j = 0;
    for (; j < bound; j += S.length()) {
      IntVector bits = (IntVector) ShortVector.fromArray(SHORTS, src, j).convertShape(VectorOperators.S2I, INTS, 0);
      bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, dstFrom + j);
    }
    for (; j < n; j++) {
      dst[dstFrom + j] = Rows.widenBf16(src[j]);
    }
  }

  /**
   * dst[j] ← src[srcFrom + j] rounded to BF16 bits, to nearest even, j in [0, n): lane by lane what
   * {@link Rows#roundToBf16} does.
   */
  static void roundToBf16(float[] src, int srcFrom, short[] dst, int n) {
    int bound = S.loopBound(n);
    int j = 0;
    for (; j < bound; j += S.length()) {
      IntVector bits = FloatVector.fromArray(S, src, srcFrom + j).reinterpretAsInts();
      IntVector top = bits.lanewise(VectorOperators.LSHR, 16);
      IntVector rounded = bits.add(top.and(1)).add(0x7fff).lanewise(VectorOperators.LSHR, 16)
          .blend(top.or(0x40), bits.and(0x7fffffff).compare(VectorOperators.GT, 0x7f800000)); // NaN: quiet, not rounded
      ((ShortVector) rounded.convertShape(VectorOperators.I2S, SHORTS, 0)).intoArray(dst, j);
    }
    for (; j < n; j++) {
      dst[j] = Rows.roundToBf16(src[srcFrom + j]);
    }
  }
}

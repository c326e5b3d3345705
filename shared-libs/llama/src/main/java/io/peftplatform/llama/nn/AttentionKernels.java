package io.peftplatform.llama.nn;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Attention}'s forward and backward for fp32 in the Vector API, one (sequence, kv head) at a time,
 * computing only the keys a query can see. Each query row's visible keys lie in one span [lo, hi) read
 * off the mask (causal: [0, i]; a packed row: from its example's first token; a sliding window: the last
 * w), so scores, softmax and the weighted sums skip the masked rest — half of every product for causal
 * attention, more for packed rows — and the probabilities and their gradients are never carried through
 * a product outside it. Within a span the mask is still added, so keys masked inside it (padding between
 * examples) get exactly 0. Results equal the batched-product path's to rounding (the same sums in another
 * order); {@code AttentionKernelsTest} compares the two.
 *
 * <p>Work is split over (sequence, kv head) pairs; each thread copies its pair's queries, keys and values
 * into float arrays padded to whole tiles (zeros), and walks the G·Tq query rows in blocks of {@link #R}.
 * The products are register-tiled: R rows × 2 vectors of output per tile, a broadcast of one operand's
 * element times a vector of the other's row per step. Loaded only where {@link Rows#VECTOR} holds.
 */
final class AttentionKernels {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final int L = S.length();
  /** Output columns per tile: two vectors. */
  private static final int W = 2 * L;
  /** Query rows per block. */
  private static final int R = 4;

  private AttentionKernels() {}

  /**
   * The shapes of one call: B·Hkv items of G·Tq query rows and Tk keys of hd values each. With
   * {@code tokens}, queries, keys, values and their outputs and gradients are the projections' token rows —
   * (B·Tq, Hq·hd) and (B·Tk, Hkv·hd), head h·G + g of token i at ((b·Tq + i)·Hq + h·G + g)·hd — else grouped
   * by kv head, (B·Hkv, G·Tq, hd) and (B·Hkv, Tk, hd). The probabilities are (B·Hkv, G·Tq, Tk) either way.
   */
  record Shape(int batch, int kvHeads, int group, int tq, int tk, int hd, boolean tokens) {
    int items() {
      return batch * kvHeads;
    }

    int rows() {
      return group * tq;
    }

    int hdPadded() {
      return roundUp(hd, W);
    }

    int tkPadded() {
      return roundUp(tk, W);
    }

    int rowsPadded() {
      return roundUp(rows(), R);
    }

    /** The element where query row r (group member r / Tq, position r % Tq) of an item starts. */
    int queryRow(int item, int r) {
      if (!tokens) {
        return (item * rows() + r) * hd;
      }
      int sequence = item / kvHeads;
      int head = (item % kvHeads) * group + r / tq;
      return ((sequence * tq + r % tq) * kvHeads * group + head) * hd;
    }

    /** The element where key (or value) row j of an item starts. */
    int keyRow(int item, int j) {
      if (!tokens) {
        return (item * tk + j) * hd;
      }
      return (((item / kvHeads) * tk + j) * kvHeads + item % kvHeads) * hd;
    }
  }

  private static int roundUp(int n, int m) {
    return (n + m - 1) / m * m;
  }

  /**
   * Per mask row (sequence b, query i) at 2·(b·Tq + i): the first visible key and one past the last. A row
   * with no visible key (a padding query at position 0) spans every key, where its masked scores are all
   * equal and its softmax comes out uniform — as the batched path gives.
   */
  static int[] spans(Rows mask, int maskRows, int tk) {
    int[] span = new int[2 * maskRows];
    float[] m = new float[tk];
    float hidden = (float) (Attention.MASKED / 2);
    for (int r = 0; r < maskRows; r++) {
      mask.readFloats(r * tk, m, tk);
      int lo = 0;
      while (lo < tk && m[lo] <= hidden) {
        lo++;
      }
      int hi = tk;
      while (hi > lo && m[hi - 1] <= hidden) {
        hi--;
      }
      if (lo == tk) {
        lo = 0;
        hi = tk;
      }
      span[2 * r] = lo;
      span[2 * r + 1] = hi;
    }
    return span;
  }

  /**
   * ctx = softmax(scale · Q Kᵀ + mask) V and probs = that softmax (0 outside each row's span), per item.
   *
   * @param ctx output, queries' layout (see {@link Shape})
   * @param probs (B·Hkv, G·Tq, Tk) output
   * @param q queries
   * @param k keys
   * @param v values
   * @param mask (B, Tq, Tk) additive
   */
  static void forward(Rows ctx, Rows probs, Rows q, Rows k, Rows v, Rows mask, Shape shape, float scale) {
    int rows = shape.rows();
    int tq = shape.tq();
    int tk = shape.tk();
    int hd = shape.hd();
    int hdp = shape.hdPadded();
    int tkp = shape.tkPadded();
    int[] span = spans(mask, shape.batch() * tq, tk);
    Rows.parallel(shape.items(), (long) rows * tk * hd, (from, to) -> {
      float[] qa = new float[shape.rowsPadded() * hdp];
      float[] kt = new float[hdp * tkp];
      float[] va = new float[tkp * hdp];
      float[] p = new float[R * tkp];
      float[] out = new float[R * hdp];
      float[] row = new float[tk];
      int[] block = new int[2];
      for (int item = from; item < to; item++) {
        int sequence = item / shape.kvHeads();
        readQueries(q, shape, item, qa);
        readKeysTransposed(k, shape, item, kt);
        readKeys(v, shape, item, va);
        for (int r0 = 0; r0 < rows; r0 += R) {
          int n = Math.min(R, rows - r0);
          blockSpan(span, sequence, tq, r0, n, block);
          int lo = block[0];
          int hi = block[1];
          int jLo = lo - lo % W;
          int jHi = roundUp(hi, W);
          product(qa, r0 * hdp, hdp, kt, tkp, jLo, jHi, p);
          for (int r = 0; r < R; r++) {
            int base = r * tkp;
            if (r >= n) {
              Arrays.fill(p, base + jLo, base + jHi, 0f);
              continue;
            }
            int maskRow = sequence * tq + (r0 + r) % tq;
            int rowLo = span[2 * maskRow];
            int rowHi = span[2 * maskRow + 1];
            mask.readFloats(maskRow * tk + rowLo, row, rowLo, rowHi - rowLo);
            VectorKernels.maskedSoftmaxRow(p, base + rowLo, row, rowLo, rowHi - rowLo, scale);
            Arrays.fill(p, base + jLo, base + rowLo, 0f);
            Arrays.fill(p, base + rowHi, base + jHi, 0f);
            Arrays.fill(row, 0, rowLo, 0f);
            System.arraycopy(p, base + rowLo, row, rowLo, rowHi - rowLo);
            Arrays.fill(row, rowHi, tk, 0f);
            probs.writeFloats((item * rows + r0 + r) * tk, row, tk);
          }
          weightedRows(p, tkp, va, hdp, lo, hi, out);
          for (int r = 0; r < n; r++) {
            ctx.writeFloats(shape.queryRow(item, r0 + r), out, r * hdp, hd);
          }
        }
      }
    });
  }

  /**
   * The gradients of {@link #forward}: dV = Pᵀ dctx, dS = P ⊙ (dctx Vᵀ − rowsum), dQ = scale · dS K,
   * dK = scale · dSᵀ Q, each over the spans only. Shapes as in forward; dq, dk, dv are overwritten.
   */
  static void backward(
      Rows dq, Rows dk, Rows dv, Rows dctx, Rows probs, Rows q, Rows k, Rows v, Rows mask, Shape shape, float scale) {
    int rows = shape.rows();
    int tq = shape.tq();
    int tk = shape.tk();
    int hd = shape.hd();
    int hdp = shape.hdPadded();
    int tkp = shape.tkPadded();
    int[] span = spans(mask, shape.batch() * tq, tk);
    Rows.parallel(shape.items(), (long) rows * tk * hd, (from, to) -> {
      float[] qa = new float[shape.rowsPadded() * hdp];
      float[] da = new float[shape.rowsPadded() * hdp];
      float[] ka = new float[tkp * hdp];
      float[] vt = new float[hdp * tkp];
      float[] dka = new float[tkp * hdp];
      float[] dva = new float[tkp * hdp];
      float[] p = new float[R * tkp];
      float[] g = new float[R * tkp];
      float[] out = new float[R * hdp];
      int[] block = new int[2];
      for (int item = from; item < to; item++) {
        int sequence = item / shape.kvHeads();
        readQueries(q, shape, item, qa);
        readQueries(dctx, shape, item, da);
        readKeys(k, shape, item, ka);
        readKeysTransposed(v, shape, item, vt);
        Arrays.fill(dka, 0f);
        Arrays.fill(dva, 0f);
        for (int r0 = 0; r0 < rows; r0 += R) {
          int n = Math.min(R, rows - r0);
          blockSpan(span, sequence, tq, r0, n, block);
          int lo = block[0];
          int hi = block[1];
          int jLo = lo - lo % W;
          int jHi = roundUp(hi, W);
          product(da, r0 * hdp, hdp, vt, tkp, jLo, jHi, g); // dP = dctx Vᵀ
          for (int r = 0; r < R; r++) {
            int base = r * tkp;
            Arrays.fill(p, base + jLo, base + jHi, 0f);
            if (r >= n) {
              Arrays.fill(g, base + jLo, base + jHi, 0f);
              continue;
            }
            int maskRow = sequence * tq + (r0 + r) % tq;
            int rowLo = span[2 * maskRow];
            int rowHi = span[2 * maskRow + 1];
            probs.readFloats((item * rows + r0 + r) * tk + rowLo, p, base + rowLo, rowHi - rowLo);
            VectorKernels.softmaxBackwardRow(g, p, base + rowLo, rowHi - rowLo);
            Arrays.fill(g, base + jLo, base + rowLo, 0f);
            Arrays.fill(g, base + rowHi, base + jHi, 0f);
          }
          weightedRows(g, tkp, ka, hdp, lo, hi, out); // dS K
          for (int r = 0; r < n; r++) {
            VectorKernels.scale(out, r * hdp, hd, scale);
            dq.writeFloats(shape.queryRow(item, r0 + r), out, r * hdp, hd);
          }
          outerUpdate(p, g, tkp, da, qa, r0 * hdp, hdp, lo, hi, dva, dka);
        }
        for (int j = 0; j < tk; j++) {
          VectorKernels.scale(dka, j * hdp, hd, scale);
          dk.writeFloats(shape.keyRow(item, j), dka, j * hdp, hd);
          dv.writeFloats(shape.keyRow(item, j), dva, j * hdp, hd);
        }
      }
    });
  }

  /** block ← [lo, hi): the union of the spans of query rows [r0, r0 + n) of a sequence. */
  private static void blockSpan(int[] span, int sequence, int tq, int r0, int n, int[] block) {
    int lo = Integer.MAX_VALUE;
    int hi = 0;
    for (int r = 0; r < n; r++) {
      int at = 2 * (sequence * tq + (r0 + r) % tq);
      lo = Math.min(lo, span[at]);
      hi = Math.max(hi, span[at + 1]);
    }
    block[0] = lo;
    block[1] = hi;
  }

  /** dst (G·Tq rows padded to R, hd padded, zeros) ← an item's query rows. */
  private static void readQueries(Rows src, Shape shape, int item, float[] dst) {
    int hdp = shape.hdPadded();
    Arrays.fill(dst, 0f);
    for (int r = 0; r < shape.rows(); r++) {
      src.readFloats(shape.queryRow(item, r), dst, r * hdp, shape.hd());
    }
  }

  /** dst (Tk rows padded, hd padded, zeros) ← an item's key (or value) rows. */
  private static void readKeys(Rows src, Shape shape, int item, float[] dst) {
    int hdp = shape.hdPadded();
    Arrays.fill(dst, 0f);
    for (int j = 0; j < shape.tk(); j++) {
      src.readFloats(shape.keyRow(item, j), dst, j * hdp, shape.hd());
    }
  }

  /** dst (hd padded × Tk padded, zeros outside) ← the transpose of an item's key (or value) rows. */
  private static void readKeysTransposed(Rows src, Shape shape, int item, float[] dst) {
    int hd = shape.hd();
    int tkp = shape.tkPadded();
    Arrays.fill(dst, 0f);
    float[] line = new float[hd];
    for (int j = 0; j < shape.tk(); j++) {
      src.readFloats(shape.keyRow(item, j), line, hd);
      for (int d = 0; d < hd; d++) {
        dst[d * tkp + j] = line[d];
      }
    }
  }

  /**
   * out[r·tkp + j] = Σ_d a[a0 + r·hdp + d] · bt[d·tkp + j] for the R rows from a0 and j in [jLo, jHi), a
   * multiple of W: rows of queries (or of the context's gradient) against transposed keys (or values).
   */
  private static void product(float[] a, int a0, int hdp, float[] bt, int tkp, int jLo, int jHi, float[] out) {
    for (int j = jLo; j < jHi; j += W) {
      VectorKernels.tile2(a, a0, hdp, bt, tkp, j, 0, hdp, out, 0, tkp, false);
    }
  }

  /**
   * out[r·hdp + c] = Σ_{j ∈ [lo, hi)} w[r·tkp + j] · b[j·hdp + c] for the R rows of w: rows of weights
   * (probabilities, or their gradients) times the rows of b (values, or keys).
   */
  private static void weightedRows(float[] w, int tkp, float[] b, int hdp, int lo, int hi, float[] out) {
    for (int c = 0; c < hdp; c += W) {
      VectorKernels.tile2(w, 0, tkp, b, hdp, c, lo, hi, out, 0, hdp, false);
    }
  }

  /**
   * dv[j] += Σ_r p[r][j] · da[r] and dk[j] += Σ_r g[r][j] · qa[r] for j in [lo, hi) and the R rows from
   * row0: the block's share of Pᵀ dctx and dSᵀ Q, its rows of dctx and Q held in registers.
   */
  private static void outerUpdate(
      float[] p, float[] g, int tkp, float[] da, float[] qa, int row0, int hdp, int lo, int hi, float[] dv, float[] dk) {
    for (int c = 0; c < hdp; c += W) {
      int at0 = row0 + c;
      FloatVector d00 = FloatVector.fromArray(S, da, at0);
      FloatVector d01 = FloatVector.fromArray(S, da, at0 + L);
      FloatVector d10 = FloatVector.fromArray(S, da, at0 + hdp);
      FloatVector d11 = FloatVector.fromArray(S, da, at0 + hdp + L);
      FloatVector d20 = FloatVector.fromArray(S, da, at0 + 2 * hdp);
      FloatVector d21 = FloatVector.fromArray(S, da, at0 + 2 * hdp + L);
      FloatVector d30 = FloatVector.fromArray(S, da, at0 + 3 * hdp);
      FloatVector d31 = FloatVector.fromArray(S, da, at0 + 3 * hdp + L);
      FloatVector q00 = FloatVector.fromArray(S, qa, at0);
      FloatVector q01 = FloatVector.fromArray(S, qa, at0 + L);
      FloatVector q10 = FloatVector.fromArray(S, qa, at0 + hdp);
      FloatVector q11 = FloatVector.fromArray(S, qa, at0 + hdp + L);
      FloatVector q20 = FloatVector.fromArray(S, qa, at0 + 2 * hdp);
      FloatVector q21 = FloatVector.fromArray(S, qa, at0 + 2 * hdp + L);
      FloatVector q30 = FloatVector.fromArray(S, qa, at0 + 3 * hdp);
      FloatVector q31 = FloatVector.fromArray(S, qa, at0 + 3 * hdp + L);
      for (int j = lo; j < hi; j++) {
        int at = j * hdp + c;
        FloatVector p0 = FloatVector.broadcast(S, p[j]);
        FloatVector p1 = FloatVector.broadcast(S, p[tkp + j]);
        FloatVector p2 = FloatVector.broadcast(S, p[2 * tkp + j]);
        FloatVector p3 = FloatVector.broadcast(S, p[3 * tkp + j]);
        FloatVector v0 = FloatVector.fromArray(S, dv, at);
        FloatVector v1 = FloatVector.fromArray(S, dv, at + L);
        v0 = d30.fma(p3, d20.fma(p2, d10.fma(p1, d00.fma(p0, v0))));
        v1 = d31.fma(p3, d21.fma(p2, d11.fma(p1, d01.fma(p0, v1))));
        v0.intoArray(dv, at);
        v1.intoArray(dv, at + L);
        FloatVector g0 = FloatVector.broadcast(S, g[j]);
        FloatVector g1 = FloatVector.broadcast(S, g[tkp + j]);
        FloatVector g2 = FloatVector.broadcast(S, g[2 * tkp + j]);
        FloatVector g3 = FloatVector.broadcast(S, g[3 * tkp + j]);
        FloatVector k0 = FloatVector.fromArray(S, dk, at);
        FloatVector k1 = FloatVector.fromArray(S, dk, at + L);
        k0 = q30.fma(g3, q20.fma(g2, q10.fma(g1, q00.fma(g0, k0))));
        k1 = q31.fma(g3, q21.fma(g2, q11.fma(g1, q01.fma(g0, k1))));
        k0.intoArray(dk, at);
        k1.intoArray(dk, at + L);
      }
    }
  }
}

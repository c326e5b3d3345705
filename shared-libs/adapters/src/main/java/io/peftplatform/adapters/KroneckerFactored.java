package io.peftplatform.adapters;

import io.peftplatform.llama.nn.RowMath;
import io.peftplatform.llama.nn.Rows;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * s·(W₁ ⊗ W₂) applied row by row without materialising it, W₁ (a, b), W₂ (c, d): a row x viewed as
 * X (b, d) gives Z = s·W₁·X·W₂ᵀ (a, c), the row's a·c outputs; and the gradients back through it. The
 * factors are about √in and √out wide, so each row's products are small and run on a thread's scratch in
 * L1 — fp32 through {@link RowMath#gemm} (SIMD register tiles; rows padded to fours and widths to whole
 * vectors with zeros), fp64 in plain double loops. Rows split over the threads; each
 * thread sums its own factor gradients, added together at the end.
 *
 * <p>Per row, forward is b·c·d + a·b·c multiply-adds and backward 3·b·c·d + 2·a·b·c (T = X·W₂ᵀ is
 * recomputed) — for the 24 × 24 factors of a 576-wide layer, a sixth of the dense product's 576².
 */
final class KroneckerFactored {
  private static final int L = RowMath.LANES;

  private KroneckerFactored() {}

  /** y (N, a·c) += s·(W₁ ⊗ W₂)·x for each row of x (N, b·d). */
  static void forward(INDArray y, INDArray x, INDArray w1, INDArray w2, double s) {
    if (!Rows.dense(y)) {
      INDArray sum = Nd4j.zeros(y.dataType(), y.shape());
      forward(sum, x, w1, w2, s);
      y.addi(sum);
      return;
    }
    Dims m = Dims.of(w1, w2);
    Rows xs = Rows.of(dense(x));
    Rows ys = Rows.of(y);
    int n = (int) x.size(0);
    if (fp32(y, x, w1, w2)) {
      float[] w2t = m.transposedW2(w2);
      float[] sw1 = m.scaledW1(w1, s);
      Rows.parallel(n, (long) m.in() * 8, (from, to) -> new Fp32Row(m).forward(xs, ys, w2t, sw1, from, to));
    } else {
      double[] f1 = w1.dup('c').data().asDouble();
      double[] f2 = w2.dup('c').data().asDouble();
      Rows.parallel(n, (long) m.in() * 8, (from, to) -> new Fp64Row(m).forward(xs, ys, f1, f2, s, from, to));
    }
  }

  /**
   * dx (N, b·d) += (s·(W₁ ⊗ W₂))ᵀ·dy for each row, and the factors' gradients over all rows:
   * dW1 = s·Σ_rows dZ·Tᵀ, dW2 = Σ_rows dTᵀ·X with T = X·W₂ᵀ, dT = s·W₁ᵀ·dZ. Overwrites dW1 (a, b), dW2 (c, d).
   */
  static void backward(INDArray dx, INDArray dy, INDArray x, INDArray w1, INDArray w2, double s, INDArray dW1, INDArray dW2) {
    if (!Rows.dense(dx)) {
      INDArray sum = Nd4j.zeros(dx.dataType(), dx.shape());
      backward(sum, dy, x, w1, w2, s, dW1, dW2);
      dx.addi(sum);
      return;
    }
    Dims m = Dims.of(w1, w2);
    Rows xs = Rows.of(dense(x));
    Rows dys = Rows.of(dense(dy));
    Rows dxs = Rows.of(dx);
    int n = (int) x.size(0);
    double[] g1 = new double[m.a * m.b];
    double[] g2 = new double[m.c * m.d];
    if (fp32(dx, dy, x, w1, w2)) {
      Queue<float[][]> parts = new ConcurrentLinkedQueue<>();
      float[] w2a = m.paddedW2Rows(w2);
      float[] w2p = m.paddedW2Columns(w2);
      float[] sw1t = m.scaledW1Transposed(w1, s);
      Rows.parallel(n, (long) m.in() * 24, (from, to) -> {
        Fp32Row row = new Fp32Row(m);
        row.backward(xs, dys, dxs, w2a, w2p, sw1t, from, to);
        parts.add(new float[][] {row.dw1, row.dw2t});
      });
      for (float[][] p : parts) {
        for (int i = 0; i < m.a; i++) {
          for (int j = 0; j < m.b; j++) {
            g1[i * m.b + j] += s * p[0][i * m.pb + j];
          }
        }
        for (int l = 0; l < m.d; l++) {
          for (int k = 0; k < m.c; k++) {
            g2[k * m.d + l] += p[1][l * m.pc + k];
          }
        }
      }
    } else {
      double[] f1 = w1.dup('c').data().asDouble();
      double[] f2 = w2.dup('c').data().asDouble();
      Queue<double[][]> parts = new ConcurrentLinkedQueue<>();
      Rows.parallel(n, (long) m.in() * 24, (from, to) -> {
        Fp64Row row = new Fp64Row(m);
        row.backward(xs, dys, dxs, f1, f2, s, from, to);
        parts.add(new double[][] {row.dw1, row.dw2});
      });
      for (double[][] p : parts) {
        for (int i = 0; i < g1.length; i++) {
          g1[i] += s * p[0][i];
        }
        for (int i = 0; i < g2.length; i++) {
          g2[i] += p[1][i];
        }
      }
    }
    dW1.assign(Nd4j.createFromArray(g1).reshape(m.a, m.b));
    dW2.assign(Nd4j.createFromArray(g2).reshape(m.c, m.d));
  }

  private static boolean fp32(INDArray... arrays) {
    for (INDArray a : arrays) {
      if (a.dataType() != DataType.FLOAT) {
        return false;
      }
    }
    return true;
  }

  private static INDArray dense(INDArray a) {
    return Rows.dense(a) ? a : a.dup('c');
  }

  private static int roundUp(int n, int multiple) {
    return (n + multiple - 1) / multiple * multiple;
  }

  /** The factor sizes, and for fp32 each padded: rows to a multiple of 4 (r*), columns to whole vectors (p*). */
  private record Dims(int a, int b, int c, int d, int ra, int rb, int rc, int rd, int pb, int pc, int pd) {
    static Dims of(INDArray w1, INDArray w2) {
      int a = (int) w1.size(0);
      int b = (int) w1.size(1);
      int c = (int) w2.size(0);
      int d = (int) w2.size(1);
      return new Dims(a, b, c, d, roundUp(a, 4), roundUp(b, 4), roundUp(c, 4), roundUp(d, 4), roundUp(b, L), roundUp(c, L), roundUp(d, L));
    }

    int in() {
      return b * d;
    }

    int out() {
      return a * c;
    }

    /** W₂ᵀ (d, pc). */
    float[] transposedW2(INDArray w2) {
      float[] f = w2.dup('c').data().asFloat();
      float[] t = new float[d * pc];
      for (int k = 0; k < c; k++) {
        for (int l = 0; l < d; l++) {
          t[l * pc + k] = f[k * d + l];
        }
      }
      return t;
    }

    /** s·W₁ (ra, b). */
    float[] scaledW1(INDArray w1, double s) {
      float[] f = w1.dup('c').data().asFloat();
      float[] t = new float[ra * b];
      for (int i = 0; i < a * b; i++) {
        t[i] = (float) (s * f[i]);
      }
      return t;
    }

    /** s·W₁ᵀ (rb, a). */
    float[] scaledW1Transposed(INDArray w1, double s) {
      float[] f = w1.dup('c').data().asFloat();
      float[] t = new float[rb * a];
      for (int i = 0; i < a; i++) {
        for (int j = 0; j < b; j++) {
          t[j * a + i] = (float) (s * f[i * b + j]);
        }
      }
      return t;
    }

    /** W₂ (rc, d). */
    float[] paddedW2Rows(INDArray w2) {
      float[] t = new float[rc * d];
      System.arraycopy(w2.dup('c').data().asFloat(), 0, t, 0, c * d);
      return t;
    }

    /** W₂ (c, pd). */
    float[] paddedW2Columns(INDArray w2) {
      float[] f = w2.dup('c').data().asFloat();
      float[] t = new float[c * pd];
      for (int k = 0; k < c; k++) {
        System.arraycopy(f, k * d, t, k * pd, d);
      }
      return t;
    }
  }

  /** One thread's fp32 scratch (padding rows and columns stay zero) and factor-gradient sums. */
  private static final class Fp32Row {
    private final Dims m;
    final float[] dw1; // (ra, pb): Σ dZ·Tᵀ, unscaled
    final float[] dw2t; // (rd, pc): Σ Xᵀ·dT = dW2ᵀ

    Fp32Row(Dims m) {
      this.m = m;
      this.dw1 = new float[m.ra * m.pb];
      this.dw2t = new float[m.rd * m.pc];
    }

    void forward(Rows xs, Rows ys, float[] w2t, float[] sw1, int from, int to) {
      float[] x = new float[m.rb * m.d]; // X (rb, d)
      float[] t = new float[m.rb * m.pc]; // T = X·W₂ᵀ (rb, pc)
      float[] z = new float[m.ra * m.pc]; // Z = s·W₁·T (ra, pc)
      float[] y = new float[m.out()];
      for (int r = from; r < to; r++) {
        xs.readFloats(r * m.in(), x, 0, m.in());
        RowMath.gemm(m.rb, m.pc, m.d, x, m.d, w2t, m.pc, t, false);
        RowMath.gemm(m.ra, m.pc, m.b, sw1, m.b, t, m.pc, z, false);
        ys.readFloats(r * m.out(), y, 0, m.out());
        for (int i = 0; i < m.a; i++) {
          RowMath.axpy(y, i * m.c, 1f, z, i * m.pc, m.c);
        }
        ys.writeFloats(r * m.out(), y, 0, m.out());
      }
    }

    void backward(Rows xs, Rows dys, Rows dxs, float[] w2a, float[] w2p, float[] sw1t, int from, int to) {
      float[] x = new float[m.in()]; // X (b, d)
      float[] xt = new float[m.rd * m.pb]; // Xᵀ (rd, pb)
      float[] tt = new float[m.rc * m.pb]; // Tᵀ = W₂·Xᵀ (rc, pb)
      float[] dz = new float[m.ra * m.c]; // dZ (ra, c)
      float[] dzp = m.pc == m.c ? dz : new float[m.a * m.pc]; // dZ (a, pc)
      float[] dt = new float[m.rb * m.pc]; // dT = s·W₁ᵀ·dZ (rb, pc)
      float[] dxr = new float[m.rb * m.pd]; // dX = dT·W₂ (rb, pd)
      float[] dx = new float[m.in()];
      for (int r = from; r < to; r++) {
        xs.readFloats(r * m.in(), x, 0, m.in());
        for (int j = 0; j < m.b; j++) {
          for (int l = 0; l < m.d; l++) {
            xt[l * m.pb + j] = x[j * m.d + l];
          }
        }
        dys.readFloats(r * m.out(), dz, 0, m.out());
        if (dzp != dz) {
          for (int i = 0; i < m.a; i++) {
            System.arraycopy(dz, i * m.c, dzp, i * m.pc, m.c);
          }
        }
        RowMath.gemm(m.rc, m.pb, m.d, w2a, m.d, xt, m.pb, tt, false);
        RowMath.gemm(m.ra, m.pb, m.c, dz, m.c, tt, m.pb, dw1, true);
        RowMath.gemm(m.rb, m.pc, m.a, sw1t, m.a, dzp, m.pc, dt, false);
        RowMath.gemm(m.rd, m.pc, m.b, xt, m.pb, dt, m.pc, dw2t, true);
        RowMath.gemm(m.rb, m.pd, m.c, dt, m.pc, w2p, m.pd, dxr, false);
        dxs.readFloats(r * m.in(), dx, 0, m.in());
        for (int j = 0; j < m.b; j++) {
          RowMath.axpy(dx, j * m.d, 1f, dxr, j * m.pd, m.d);
        }
        dxs.writeFloats(r * m.in(), dx, 0, m.in());
      }
    }
  }

  /** One thread's fp64 loops and factor-gradient sums. */
  private static final class Fp64Row {
    private final Dims m;
    final double[] dw1; // (a, b): Σ dZ·Tᵀ, unscaled
    final double[] dw2; // (c, d)

    Fp64Row(Dims m) {
      this.m = m;
      this.dw1 = new double[m.a * m.b];
      this.dw2 = new double[m.c * m.d];
    }

    void forward(Rows xs, Rows ys, double[] f1, double[] f2, double s, int from, int to) {
      double[] x = new double[m.in()];
      double[] t = new double[m.b * m.c];
      double[] y = new double[m.out()];
      for (int r = from; r < to; r++) {
        xs.read(r * m.in(), x, m.in());
        product(m.b, m.c, m.d, x, m.d, 1, f2, 1, m.d, t, 1, false); // T = X·W₂ᵀ
        ys.read(r * m.out(), y, m.out());
        product(m.a, m.c, m.b, f1, m.b, 1, t, m.c, 1, y, s, true); // Z = s·W₁·T
        ys.write(r * m.out(), y, m.out());
      }
    }

    void backward(Rows xs, Rows dys, Rows dxs, double[] f1, double[] f2, double s, int from, int to) {
      double[] x = new double[m.in()];
      double[] t = new double[m.b * m.c];
      double[] dz = new double[m.out()];
      double[] dt = new double[m.b * m.c];
      double[] dx = new double[m.in()];
      for (int r = from; r < to; r++) {
        xs.read(r * m.in(), x, m.in());
        dys.read(r * m.out(), dz, m.out());
        product(m.b, m.c, m.d, x, m.d, 1, f2, 1, m.d, t, 1, false); // T = X·W₂ᵀ
        product(m.a, m.b, m.c, dz, m.c, 1, t, 1, m.c, dw1, 1, true); // dW1 += dZ·Tᵀ
        product(m.b, m.c, m.a, f1, 1, m.b, dz, m.c, 1, dt, s, false); // dT = s·W₁ᵀ·dZ
        product(m.c, m.d, m.b, dt, 1, m.c, x, m.d, 1, dw2, 1, true); // dW2 += dTᵀ·X
        dxs.read(r * m.in(), dx, m.in());
        product(m.b, m.d, m.c, dt, m.c, 1, f2, m.d, 1, dx, 1, true); // dX += dT·W₂
        dxs.write(r * m.in(), dx, m.in());
      }
    }

    /**
     * out[r·cols + c] = (out +) scale · Σ_{t < q} a[r·aRow + t·aCol] · b[t·bRow + c·bCol] for r < rows, c < cols:
     * a product of matrices read through strides (a transposed operand is the same array, strides swapped).
     */
    private static void product(int rows, int cols, int q, double[] a, int aRow, int aCol, double[] b, int bRow, int bCol,
        double[] out, double scale, boolean add) {
      for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
          double sum = 0;
          for (int t = 0; t < q; t++) {
            sum += a[r * aRow + t * aCol] * b[t * bRow + c * bCol];
          }
          out[r * cols + c] = (add ? out[r * cols + c] : 0) + scale * sum;
        }
      }
    }
  }
}

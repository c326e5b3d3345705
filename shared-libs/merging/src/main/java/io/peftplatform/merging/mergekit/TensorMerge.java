package io.peftplatform.merging.mergekit;

import io.peftplatform.adapters.SeededStream;
import io.peftplatform.merge.config.MergeConfigException;
import io.peftplatform.merge.config.WholeModelMethod.Sparsification;
import java.util.Arrays;
import java.util.List;

/**
 * The per-tensor arithmetic of mergekit's methods (docs/merging.md, "Whole-model merges"), in fp64 over
 * fp32 inputs (every stored F32, F16 and BF16 value is exact in fp32). A tensor is {@code rows x cols}
 * row-major (a 1-D tensor is one row); each method overwrites every entry of {@code out} (the tensor's length). The row-wise methods (DELLA's ranks, NuSLERP without flattening,
 * Model Stock filter-wise) work on its rows.
 */
final class TensorMerge {
  /** mergekit's slerp: nearly parallel tensors are lerped. */
  static final double SLERP_DOT_THRESHOLD = 0.9995;
  private static final double SLERP_EPS = 1e-8;
  private static final double RESCALE_EPS = 1e-7;

  private TensorMerge() {}

  /** One task vector's settings: its weight, density, and gamma (breadcrumbs) or epsilon (DELLA). */
  record TaskVector(float[] values, double weight, double density, double gamma, double epsilon) {}

  /** Σ wᵢ·xᵢ, divided by Σ wᵢ when normalizing. */
  static double[] linear(double[] out, String tensor, List<float[]> xs, double[] weights, boolean normalize) {
    int n = xs.get(0).length;
    double sum = 0;
    for (int i = 0; i < xs.size(); i++) {
      float[] x = xs.get(i);
      double w = weights[i];
      sum += w;
      if (i == 0) {
        for (int e = 0; e < n; e++) {
          out[e] = w * x[e];
        }
      } else {
        for (int e = 0; e < n; e++) {
          out[e] += w * x[e];
        }
      }
    }
    if (normalize) {
      if (sum == 0) {
        throw new MergeConfigException(tensor + ": the weights sum to 0, so normalize cannot divide by them; set normalize: false");
      }
      for (int e = 0; e < n; e++) {
        out[e] /= sum;
      }
    }
    return out;
  }

  /**
   * mergekit's generalized task arithmetic: task vectors δᵢ = xᵢ − base, each sparsified (and with
   * {@code rescale} brought back to its L1 norm), weighted, optionally sign-elected (TIES), summed,
   * divided by the (agreeing) weights when normalizing, scaled by λ, added to the base.
   */
  static double[] taskArithmetic(double[] out, String tensor, float[] base, List<TaskVector> tvs, Sparsification sparsification, boolean consensus,
      boolean normalize, boolean rescale, double lambda, int rows, long seed) {
    int n = base.length;
    int k = tvs.size();
    if (sparsification == Sparsification.NONE && !consensus) {
      return plainTaskArithmetic(out, base, tvs, normalize, lambda);
    }
    double[][] weighted = new double[k][];
    double[] weights = new double[k];
    for (int i = 0; i < k; i++) {
      TaskVector tv = tvs.get(i);
      double[] delta = new double[n];
      for (int e = 0; e < n; e++) {
        delta[e] = (double) tv.values()[e] - base[e];
      }
      delta = sparsify(tensor, delta, tv, sparsification, rescale, rows, new SeededStream(seed, tensor + "#" + i));
      double w = tv.weight();
      for (int e = 0; e < n; e++) {
        delta[e] *= w;
      }
      weighted[i] = delta;
      weights[i] = w;
    }
    double weightSum = 0;
    for (double w : weights) {
      weightSum += w;
    }
    double sum = weightSum;
    inParallel(n, (from, to) -> {
      for (int e = from; e < to; e++) {
        double mixed = 0;
        double divisor;
        if (consensus) {
          double total = 0;
          for (int i = 0; i < k; i++) {
            total += weighted[i][e];
          }
          double majority = total >= 0 ? 1 : -1;
          divisor = 0;
          for (int i = 0; i < k; i++) {
            if (Math.signum(weighted[i][e]) == majority) {
              mixed += weighted[i][e];
              divisor += weights[i];
            }
          }
          if (divisor == 0) {
            divisor = 1;
          }
        } else {
          for (int i = 0; i < k; i++) {
            mixed += weighted[i][e];
          }
          divisor = Math.abs(sum) < 1e-8 ? 1 : sum;
        }
        if (normalize) {
          mixed /= divisor;
        }
        out[e] = base[e] + lambda * mixed;
      }
    });
    return out;
  }

  /** Task arithmetic without trimming or sign election, in one pass per entry (the same operations, in the same order). */
  private static double[] plainTaskArithmetic(double[] out, float[] base, List<TaskVector> tvs, boolean normalize, double lambda) {
    int n = base.length;
    int k = tvs.size();
    float[][] xs = new float[k][];
    double[] w = new double[k];
    double weightSum = 0;
    for (int i = 0; i < k; i++) {
      xs[i] = tvs.get(i).values();
      w[i] = tvs.get(i).weight();
      weightSum += w[i];
    }
    double divisor = Math.abs(weightSum) < 1e-8 ? 1 : weightSum;
    inParallel(n, (from, to) -> {
      for (int e = from; e < to; e++) {
        double mixed = 0;
        for (int i = 0; i < k; i++) {
          mixed += ((double) xs[i][e] - base[e]) * w[i];
        }
        if (normalize) {
          mixed /= divisor;
        }
        out[e] = base[e] + lambda * mixed;
      }
    });
    return out;
  }

  interface Range {
    void run(int from, int to);
  }

  /** Runs body over [0, n) in chunks on the common pool (entries are independent). */
  static void inParallel(int n, Range body) {
    final int chunk = 1 << 16;
    if (n <= chunk) {
      body.run(0, n);
      return;
    }
    java.util.stream.IntStream.range(0, (n + chunk - 1) / chunk).parallel()
        .forEach(c -> body.run(c * chunk, Math.min(n, (c + 1) * chunk)));
  }

  static double[] sparsify(String tensor, double[] delta, TaskVector tv, Sparsification method, boolean rescale, int rows,
      SeededStream stream) {
    double density = tv.density();
    if (method == Sparsification.NONE || density >= 1) {
      return delta;
    }
    int n = delta.length;
    boolean[] keep = new boolean[n];
    switch (method) {
      case MAGNITUDE -> {
        int k = (int) (density * n);
        if (k <= 0) {
          throw new MergeConfigException(tensor + ": density " + density + " keeps no entry of " + n);
        }
        keepRanks(delta, 0, n, n - k, n, keep);
      }
      case RANDOM -> {
        for (int e = 0; e < n; e++) {
          keep[e] = stream.nextUniform24() < density;
        }
      }
      case MAGNITUDE_OUTLIERS -> {
        int target = (int) (density * n);
        int top = (int) (tv.gamma() * n);
        int bottom = n - target - top;
        if (bottom < 0) {
          top += bottom;
          bottom = 0;
        }
        keepRanks(delta, 0, n, bottom, n - top, keep);
      }
      case DELLA_MAGPRUNE -> {
        if (density <= 0) {
          return new double[n];
        }
        double eps = tv.epsilon();
        if (density + eps >= 1 || density - eps <= 0) {
          throw new MergeConfigException(tensor + ": epsilon " + eps + " must keep density ± epsilon inside (0, 1) (density " + density + ")");
        }
        int cols = n / rows;
        int[] rank = new int[cols];
        RankScratch scratch = new RankScratch(cols);
        for (int r = 0; r < rows; r++) {
          ranks(delta, r * cols, cols, rank, scratch);
          for (int c = 0; c < cols; c++) {
            double norm = cols == 1 ? 0 : Math.min(1, Math.max(0, rank[c] / (double) (cols - 1)));
            double p = (density - eps) + norm * 2 * eps;
            keep[r * cols + c] = stream.nextUniform24() < p;
          }
        }
      }
      default -> throw new IllegalStateException(method.toString());
    }
    double before = 0;
    double after = 0;
    double[] out = new double[n];
    for (int e = 0; e < n; e++) {
      before += Math.abs(delta[e]);
      if (keep[e]) {
        out[e] = delta[e];
        after += Math.abs(delta[e]);
      }
    }
    if (rescale && before >= RESCALE_EPS && after >= RESCALE_EPS) {
      double s = before / after;
      for (int e = 0; e < n; e++) {
        out[e] *= s;
      }
    }
    return out;
  }

  /**
   * Marks the entries of {@code values[from, from + n)} whose rank by fp32 magnitude (ascending, ties by
   * position) lies in [lo, hi): mergekit sorts the magnitudes as float32. Two selections find the
   * magnitudes at ranks lo and hi − 1; one pass then places every entry, counting equal magnitudes in
   * position order.
   */
  static void keepRanks(double[] values, int from, int n, int lo, int hi, boolean[] keep) {
    lo = Math.max(lo, 0);
    hi = Math.min(hi, n);
    if (lo >= hi) {
      return;
    }
    float[] mags = new float[n];
    for (int i = 0; i < n; i++) {
      mags[i] = Math.abs((float) values[from + i]);
    }
    float low = select(mags, lo);
    float high = select(mags, hi - 1);
    int belowLow = 0;
    int belowHigh = 0;
    for (float m : mags) {
      belowLow += m < low ? 1 : 0;
      belowHigh += m < high ? 1 : 0;
    }
    int equalLow = 0;
    int equalHigh = 0;
    for (int i = 0; i < n; i++) {
      float m = mags[i];
      boolean k;
      if (m > low && m < high) {
        k = true;
      } else if (m == low) {
        int rank = belowLow + equalLow++;
        k = rank >= lo && rank < hi;
      } else if (m == high) {
        int rank = belowHigh + equalHigh++;
        k = rank < hi;
      } else {
        k = false;
      }
      keep[from + i] = k;
    }
  }

  /**
   * The k-th smallest (0-based) of non-negative floats, by radix selection on their bits (which order
   * like the values): a histogram of the upper 16 bits finds the bucket, a second of the lower 16 bits
   * within it the value. Two branch-free passes, where comparison-based selection mispredicts on every
   * element of random data.
   */
  static float select(float[] mags, int k) {
    int[] histogram = new int[1 << 16];
    for (float m : mags) {
      histogram[Float.floatToRawIntBits(m) >>> 16]++;
    }
    int bucket = 0;
    int before = 0;
    while (before + histogram[bucket] <= k) {
      before += histogram[bucket++];
    }
    Arrays.fill(histogram, 0);
    for (float m : mags) {
      int bits = Float.floatToRawIntBits(m);
      if (bits >>> 16 == bucket) {
        histogram[bits & 0xffff]++;
      }
    }
    int low = 0;
    while (before + histogram[low] <= k) {
      before += histogram[low++];
    }
    return Float.intBitsToFloat((bucket << 16) | low);
  }

  /** Scratch for {@link #ranks}: four int arrays of one row's length and the byte histogram. */
  static final class RankScratch {
    final int[] keys;
    final int[] index;
    final int[] keys2;
    final int[] index2;
    final int[] count = new int[257];

    RankScratch(int n) {
      keys = new int[n];
      index = new int[n];
      keys2 = new int[n];
      index2 = new int[n];
    }
  }

  /**
   * rank[c] ∈ [0, n): the ascending fp32-magnitude rank of values[from + c], ties by position. A stable
   * least-significant-digit radix sort of the magnitudes' bits (non-negative floats order like their
   * bits), a byte per pass: branch-free, where comparison sorts mispredict on random data.
   */
  static void ranks(double[] values, int from, int n, int[] rank, RankScratch s) {
    int[] keys = s.keys;
    int[] index = s.index;
    int[] keys2 = s.keys2;
    int[] index2 = s.index2;
    for (int i = 0; i < n; i++) {
      keys[i] = Float.floatToRawIntBits(Math.abs((float) values[from + i]));
      index[i] = i;
    }
    for (int shift = 0; shift < 32; shift += 8) {
      int[] count = s.count;
      Arrays.fill(count, 0);
      for (int i = 0; i < n; i++) {
        count[((keys[i] >>> shift) & 0xff) + 1]++;
      }
      if (count[((keys[0] >>> shift) & 0xff) + 1] == n) {
        continue; // every key has this byte: the pass would not move anything
      }
      for (int b = 0; b < 256; b++) {
        count[b + 1] += count[b];
      }
      for (int i = 0; i < n; i++) {
        int p = count[(keys[i] >>> shift) & 0xff]++;
        keys2[p] = keys[i];
        index2[p] = index[i];
      }
      int[] t = keys;
      keys = keys2;
      keys2 = t;
      t = index;
      index = index2;
      index2 = t;
    }
    for (int r = 0; r < n; r++) {
      rank[index[r]] = r;
    }
  }

  /** mergekit's slerp of the flattened tensors from a (t = 0) to b (t = 1). */
  static double[] slerp(double[] out, double t, float[] a, float[] b) {
    int n = a.length;
    double na = norm(a);
    double nb = norm(b);
    double sa = na > SLERP_EPS ? na : 1;
    double sb = nb > SLERP_EPS ? nb : 1;
    double dot = 0;
    for (int e = 0; e < n; e++) {
      dot += (a[e] / sa) * (b[e] / sb);
    }
    double s0;
    double s1;
    if (Math.abs(dot) > SLERP_DOT_THRESHOLD) {
      s0 = 1 - t;
      s1 = t;
    } else {
      double theta0 = Math.acos(dot);
      double sin0 = Math.sin(theta0);
      double thetaT = theta0 * t;
      s0 = Math.sin(theta0 - thetaT) / sin0;
      s1 = Math.sin(thetaT) / sin0;
    }
    for (int e = 0; e < n; e++) {
      out[e] = s0 * a[e] + s1 * b[e];
    }
    return out;
  }

  /**
   * mergekit's nuslerp: t = w₁ / (w₀ + w₁) (0.5 when the weights sum to ~0); spherical interpolation of
   * the flattened tensors, of each row, or ({@code rowWise}) of each column; with a base, of the task
   * vectors, added to it. Colinear vectors are lerped.
   */
  static double[] nuslerp(double[] out, float[] a, float[] b, double wa, double wb, float[] base, int rows, boolean rowWise, boolean flatten) {
    int n = a.length;
    double t = Math.abs(wa + wb) < 1e-6 ? 0.5 : wb / (wa + wb);
    double[] v0 = new double[n];
    double[] v1 = new double[n];
    for (int e = 0; e < n; e++) {
      v0[e] = base == null ? a[e] : (double) a[e] - base[e];
      v1[e] = base == null ? b[e] : (double) b[e] - base[e];
    }
    int cols = n / rows;
    // vectors: count, length, and the stride between a vector's entries / between vectors
    int count;
    int length;
    int step;
    int stride;
    if (flatten) {
      count = 1;
      length = n;
      step = 1;
      stride = 0;
    } else if (rowWise) {
      count = cols;
      length = rows;
      step = cols;
      stride = 1;
    } else {
      count = rows;
      length = cols;
      step = 1;
      stride = cols;
    }
    for (int v = 0; v < count; v++) {
      int start = v * stride;
      double n0 = 0;
      double n1 = 0;
      for (int i = 0; i < length; i++) {
        int e = start + i * step;
        n0 += v0[e] * v0[e];
        n1 += v1[e] * v1[e];
      }
      n0 = Math.max(Math.sqrt(n0), 1e-7);
      n1 = Math.max(Math.sqrt(n1), 1e-7);
      double cos = 0;
      for (int i = 0; i < length; i++) {
        int e = start + i * step;
        cos += (v0[e] / n0) * (v1[e] / n1);
      }
      double theta = Math.acos(Math.max(-1, Math.min(1, cos)));
      double sin = Math.sin(theta);
      boolean colinear = Math.abs(sin) < SLERP_EPS;
      double s0 = colinear ? 1 - t : Math.sin((1 - t) * theta) / sin;
      double s1 = colinear ? t : Math.sin(t * theta) / sin;
      for (int i = 0; i < length; i++) {
        int e = start + i * step;
        out[e] = s0 * v0[e] + s1 * v1[e] + (base == null ? 0 : base[e]);
      }
    }
    return out;
  }

  /**
   * Model Stock (Jang et al., 2024) as mergekit computes it: cos θ the mean pairwise cosine of the task
   * vectors (of the whole tensor, or per row with {@code filterWise}), t = N·cos θ / (1 + (N − 1)·cos θ),
   * result t·mean(xᵢ) + (1 − t)·base.
   */
  static double[] modelStock(double[] out, float[] base, List<float[]> xs, int rows, boolean filterWise) {
    int n = base.length;
    int count = filterWise ? rows : 1;
    int length = n / count;
    int models = xs.size();
    double[] norms = new double[models];
    for (int v = 0; v < count; v++) {
      int start = v * length;
      for (int i = 0; i < models; i++) {
        double s = 0;
        float[] x = xs.get(i);
        for (int e = start; e < start + length; e++) {
          double d = (double) x[e] - base[e];
          s += d * d;
        }
        norms[i] = Math.sqrt(s);
      }
      double cosSum = 0;
      int pairs = 0;
      for (int i = 0; i < models; i++) {
        for (int j = i + 1; j < models; j++) {
          float[] xi = xs.get(i);
          float[] xj = xs.get(j);
          double dot = 0;
          for (int e = start; e < start + length; e++) {
            dot += ((double) xi[e] - base[e]) * ((double) xj[e] - base[e]);
          }
          cosSum += Math.max(-1, Math.min(1, dot / Math.max(norms[i] * norms[j], 1e-6)));
          pairs++;
        }
      }
      double cos = cosSum / pairs;
      double t = models * cos / (1 + (models - 1) * cos);
      for (int e = start; e < start + length; e++) {
        double mean = 0;
        for (float[] x : xs) {
          mean += x[e];
        }
        mean /= models;
        out[e] = t * mean + (1 - t) * base[e];
      }
    }
    return out;
  }

  static double[] scaled(double[] out, float[] x, double scale) {
    for (int e = 0; e < x.length; e++) {
      out[e] = scale * x[e];
    }
    return out;
  }

  private static double norm(float[] x) {
    double s = 0;
    for (float v : x) {
      s += (double) v * v;
    }
    return Math.sqrt(s);
  }
}

package io.peftplatform.llama.nn;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.reduce.same.Max;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The language-model head and its loss: logits = hidden · Eᵀ and softmax cross-entropy against target
 * ids. Rows are processed in contiguous runs of scored positions, at most a chunk at a time, so the
 * (N, V) logits never exist at once and unscored rows (prompts, padding) cost nothing.
 *
 * <p>With a BF16 head (fp32 hidden states) the head runs as PyTorch's CPU autocast runs it: the hidden
 * states rounded to BF16, logits as BF16 products ({@link Bf16Products}), the loss and softmax in fp32
 * on the widened logits, dlogits rounded to BF16 for dhidden = dlogits · E, itself a BF16 product
 * widened into fp32. The fp32 kernel reads and writes the BF16 logits directly: no widened copy.
 */
public final class CrossEntropy {
  /** Ignored target (PyTorch's ignore_index). */
  public static final int IGNORE = -100;

  /** Logits held at once: 16 M values, 64 MB in fp32. */
  private static final long CHUNK_ELEMENTS = 16L << 20;
  /**
   * BF16 logits held at once: 4 M values. oneDNN's BF16 product slows to a fifth when its result passes
   * about 8 M values (Zen 5, 2 threads: 511 GFLOP/s at 160 x 49152, 140 at 192 x 49152), smaller chunks
   * keep it at its speed (85 x 49152: 473 forward, 529 backward).
   */
  private static final long BF16_CHUNK_ELEMENTS = 4L << 20;

  private CrossEntropy() {}

  /** A sum of per-token losses and how many tokens it covers. */
  public record Sum(double loss, long tokens) {
    public Sum plus(Sum o) {
      return new Sum(loss + o.loss, tokens + o.tokens);
    }

    public double mean() {
      return tokens == 0 ? Double.NaN : loss / tokens;
    }
  }

  /** [start, end) runs of consecutive scored rows, none longer than maxRows. */
  public static List<int[]> runs(int[] targets, int maxRows) {
    List<int[]> out = new ArrayList<>();
    int i = 0;
    while (i < targets.length) {
      if (targets[i] == IGNORE) {
        i++;
        continue;
      }
      int start = i;
      while (i < targets.length && targets[i] != IGNORE && i - start < maxRows) {
        i++;
      }
      out.add(new int[] {start, i});
    }
    return out;
  }

  /**
   * @param hidden (N, D) final hidden states (after the final norm)
   * @param targets (N) the id each row must predict, or {@link #IGNORE}
   * @param lmHead (V, D) in the hidden states' precision, or BF16 (see the class comment)
   */
  public static Sum forward(INDArray hidden, int[] targets, INDArray lmHead, Arena arena) {
    return run(hidden, targets, lmHead, 0, null, null, null, arena, Rows.simd(hidden));
  }

  /** {@link #forward}, also writing each row's loss to {@code rowLoss} (N; 0 on unscored rows). */
  public static Sum forward(INDArray hidden, int[] targets, INDArray lmHead, double[] rowLoss, Arena arena) {
    Arrays.fill(rowLoss, 0);
    return run(hidden, targets, lmHead, 0, null, null, rowLoss, arena, Rows.simd(hidden));
  }

  /**
   * Loss and its gradient: dHidden (N, D) is overwritten with ∂(scale · Σ loss)/∂hidden (zero on
   * unscored rows). The head is frozen: no gradient for it.
   */
  public static Sum forwardBackward(INDArray hidden, int[] targets, INDArray lmHead, double scale, INDArray dHidden, Arena arena) {
    dHidden.assign(0);
    return run(hidden, targets, lmHead, scale, null, dHidden, null, arena, Rows.simd(hidden));
  }

  /** {@link #forwardBackward} with a scale per row: dHidden = ∂(Σ rowScale · loss)/∂hidden. */
  public static Sum forwardBackward(INDArray hidden, int[] targets, INDArray lmHead, double[] rowScale, INDArray dHidden, Arena arena) {
    dHidden.assign(0);
    return run(hidden, targets, lmHead, 0, rowScale, dHidden, null, arena, Rows.simd(hidden));
  }

  /** {@link #forwardBackward(INDArray, int[], INDArray, double, INDArray, Arena)} choosing the path: for tests. */
  static Sum forwardBackward(INDArray hidden, int[] targets, INDArray lmHead, double scale, INDArray dHidden, Arena arena, boolean simd) {
    dHidden.assign(0);
    return run(hidden, targets, lmHead, scale, null, dHidden, null, arena, simd);
  }

  /**
   * @param rowScale null for {@code scale} on every row (training's one scale, kept a scalar op)
   * @param simd the fp32 chunks through {@link VectorKernels}, else ND4J's ops
   */
  private static Sum run(INDArray hidden, int[] targets, INDArray lmHead, double scale, double[] rowScale, INDArray dHidden,
      double[] rowLoss, Arena arena, boolean simd) {
    boolean bf16 = lmHead.dataType() == DataType.BFLOAT16;
    if (bf16 && hidden.dataType() != DataType.FLOAT) {
      throw new IllegalArgumentException("a BF16 head needs fp32 hidden states, not " + hidden.dataType());
    }
    long vocab = lmHead.size(0);
    long d = lmHead.size(1);
    int maxRows = (int) Math.max(1, (bf16 ? BF16_CHUNK_ELEMENTS : CHUNK_ELEMENTS) / vocab);
    INDArray head32 = null; // without native BF16 products: the BF16 head widened once per call, not per chunk
    if (bf16 && !NativeBuild.nativeBf16()) {
      head32 = arena.get("ce.head", vocab, d);
      head32.assign(lmHead);
    }
    double loss = 0;
    long tokens = 0;
    for (int[] run : runs(targets, maxRows)) {
      int c = run[1] - run[0];
      for (int r = run[0]; r < run[1]; r++) {
        if (targets[r] < 0 || targets[r] >= vocab) {
          throw new IllegalArgumentException("target id " + targets[r] + " is outside the vocabulary of " + vocab);
        }
      }
      INDArray rows = hidden.get(interval(run[0], run[1]), all()); // (c, D)
      INDArray logits; // (c, V), in the head's precision
      if (bf16) {
        INDArray rows16 = Bf16Products.scratch(Bf16Products.Slot.OPERAND, DataType.BFLOAT16, c, d);
        rows16.assign(rows);
        logits = Bf16Products.scratch(Bf16Products.Slot.RESULT, DataType.BFLOAT16, c, vocab);
        Bf16Products.multiply(logits, rows16, lmHead, head32, true);
      } else {
        logits = arena.get("ce.logits", c, vocab);
        Ops.gemm(logits, rows, false, lmHead, true, 1.0, 0.0);
      }
      boolean backward = dHidden != null;
      if (simd) {
        loss += vectorized(logits, targets, run[0], c, (int) vocab, scale, rowScale, backward, rowLoss);
      } else if (!bf16) {
        loss += withNd4jOps(logits, targets, run[0], c, scale, rowScale, backward, rowLoss, arena);
      } else { // ND4J's ops would compute in BF16: widen first
        INDArray wide = arena.get("ce.logits", c, vocab);
        wide.assign(logits);
        loss += withNd4jOps(wide, targets, run[0], c, scale, rowScale, backward, rowLoss, arena);
        logits.assign(wide);
      }
      tokens += c;
      if (backward) {
        INDArray dRows = dHidden.get(interval(run[0], run[1]), all());
        if (bf16) {
          INDArray dRows16 = Bf16Products.scratch(Bf16Products.Slot.OPERAND, DataType.BFLOAT16, c, d); // rows16 is done with
          Bf16Products.multiply(dRows16, logits, lmHead, head32, false);
          dRows.assign(dRows16);
        } else {
          Ops.gemm(dRows, logits, false, lmHead, false, 1.0, 0.0); // dhidden = dlogits · E
        }
      }
    }
    return new Sum(loss, tokens);
  }

  /**
   * One chunk in ND4J's ops (fp64, or without the Vector API): the chunk's loss, and with {@code backward}
   * dlogits = scale · (softmax − onehot) in place of the logits.
   */
  private static double withNd4jOps(INDArray logits, int[] targets, int first, int c, double scale, double[] rowScale, boolean backward,
      double[] rowLoss, Arena arena) {
    double[] targetLogit = new double[c];
    for (int r = 0; r < c; r++) {
      targetLogit[r] = logits.getDouble(r, targets[first + r]);
    }
    INDArray max = arena.get("ce.max", c);
    INDArray sum = arena.get("ce.sum", c);
    Nd4j.exec(new Max(logits, max, 1));
    logits.subiColumnVector(max);
    Transforms.exp(logits, false);
    Nd4j.exec(new org.nd4j.linalg.api.ops.impl.reduce.same.Sum(logits, sum, 1));
    double loss = 0;
    for (int r = 0; r < c; r++) {
      double l = Math.log(sum.getDouble(r)) + max.getDouble(r) - targetLogit[r];
      loss += l;
      if (rowLoss != null) {
        rowLoss[first + r] = l;
      }
    }
    if (backward) {
      // dlogits = scale · (softmax − onehot), the scale one for all rows or one per row
      logits.diviColumnVector(sum);
      if (rowScale == null) {
        logits.muli(scale);
      } else {
        logits.muliColumnVector(Nd4j.createFromArray(Arrays.copyOfRange(rowScale, first, first + c)).castTo(logits.dataType()));
      }
      for (int r = 0; r < c; r++) {
        int t = targets[first + r];
        double rs = rowScale == null ? scale : rowScale[first + r];
        logits.putScalar(r, t, logits.getDouble(r, t) - rs);
      }
    }
    return loss;
  }

  /**
   * The fp32 SIMD path of one chunk (fp32 or BF16 logits, see {@link Rows}): per row, in one read and one
   * write, the log-sum-exp loss and, with {@code backward}, dlogits = scale · (softmax − onehot) in place of
   * the logits. Returns the chunk's loss.
   */
  private static double vectorized(INDArray logits, int[] targets, int first, int c, int vocab, double scale, double[] rowScale,
      boolean backward, double[] rowLoss) {
    double[] losses = new double[c];
    Rows rows = Rows.of(logits);
    Rows.parallel(c, vocab, (from, to) -> {
      float[] x = new float[vocab];
      for (int r = from; r < to; r++) {
        int t = targets[first + r];
        rows.readFloats(r * vocab, x, vocab);
        float max = VectorKernels.max(x, vocab);
        float target = x[t];
        double sum = VectorKernels.expShifted(x, vocab, max);
        losses[r] = Math.log(sum) + max - target;
        if (backward) {
          double rs = rowScale == null ? scale : rowScale[first + r];
          VectorKernels.scale(x, vocab, (float) (rs / sum));
          x[t] -= (float) rs;
          rows.writeFloats(r * vocab, x, vocab);
        }
      }
    });
    double loss = 0;
    for (int r = 0; r < c; r++) {
      loss += losses[r];
      if (rowLoss != null) {
        rowLoss[first + r] = losses[r];
      }
    }
    return loss;
  }
}

package io.peftplatform.merging.learned;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

import io.peftplatform.llama.LlamaModel;
import io.peftplatform.llama.nn.Arena;
import io.peftplatform.llama.nn.CrossEntropy;
import io.peftplatform.llama.nn.Ops;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The learned merges' losses on the model's outputs, as {@link LlamaModel.Head}s and a
 * {@link LlamaModel.BlockLoss}: over the rows that predict a next token, a chunk of rows at a time, so the
 * (N, V) logits never exist at once. Each head returns Σ over rows of the row's loss; its gradient is of
 * {@code scale} times that.
 */
final class OutputLosses {
  /** Logits held at once per array. */
  private static final long CHUNK_ELEMENTS = 8L << 20;

  private OutputLosses() {}

  /**
   * What a loss does with one run of rows: given their logits z (c, V) — the merged model's, times
   * {@code zScale} — it returns the run's loss and leaves ∂loss/∂z in z, with {@code spare} (c, V) to work in.
   */
  private interface RowsLoss {
    double lossAndGradient(int from, int to, INDArray z, INDArray spare);
  }

  /** A head over the predicting rows, a chunk of them at a time: logits, the loss's gradient, dNormed = dz · E. */
  private static LlamaModel.Head chunked(int[] targets, INDArray head, double zScale, Arena arena, RowsLoss loss) {
    return (normed, dNormed) -> {
      dNormed.assign(0);
      long vocab = head.size(0);
      double total = 0;
      long rows = 0;
      for (int[] run : CrossEntropy.runs(targets, (int) Math.max(1, CHUNK_ELEMENTS / vocab))) {
        int c = run[1] - run[0];
        INDArray z = arena.get("align.z", c, vocab);
        Ops.gemm(z, normed.get(interval(run[0], run[1]), all()), false, head, true, zScale, 0.0);
        total += loss.lossAndGradient(run[0], run[1], z, arena.get("align.p", c, vocab));
        Ops.gemm(dNormed.get(interval(run[0], run[1]), all()), z, false, head, false, 1.0, 0.0);
        rows += c;
      }
      return new CrossEntropy.Sum(total, rows);
    };
  }

  /**
   * Expert Merging's logit alignment: per row, T² · CE(softmax(zₑ/T), softmax(z/T)) = −T² Σᵥ pₑ,ᵥ log qᵥ,
   * with z the merged model's logits and zₑ the expert's, from its final-normed hidden states.
   *
   * @param teacherNormed (N, D) the expert's final-normed hidden states, laid out as the batch
   * @param teacherHead (V, D) the expert's LM head
   */
  static LlamaModel.Head softCrossEntropy(int[] targets, INDArray head, INDArray teacherNormed, INDArray teacherHead, double temperature,
      double scale, Arena arena) {
    return chunked(targets, head, 1.0 / temperature, arena, (from, to, z, p) -> {
      Ops.gemm(p, teacherNormed.get(interval(from, to), all()), false, teacherHead, true, 1.0 / temperature, 0.0);
      logSoftmaxRows(z);
      logSoftmaxRows(p);
      Transforms.exp(p, false); // p = softmax(zₑ/T)
      double loss = -p.mul(z).sumNumber().doubleValue() * temperature * temperature;
      Transforms.exp(z, false); // q = softmax(z/T); ∂/∂(raw logits) of T²·CE is T·(q − p)
      z.subi(p).muli(temperature * scale);
      return loss;
    });
  }

  /** AdaMerging's objective: per row, the entropy H(q) = −Σᵥ qᵥ log qᵥ of the merged model's prediction. */
  static LlamaModel.Head entropy(int[] targets, INDArray head, double scale, Arena arena) {
    return chunked(targets, head, 1.0, arena, (from, to, logq, q) -> {
      logSoftmaxRows(logq);
      Transforms.exp(q.assign(logq), false);
      INDArray h = q.mul(logq).sum(1).negi(); // (c) each row's entropy
      logq.addiColumnVector(h).muli(q).muli(-scale); // ∂H/∂zᵥ = −qᵥ (log qᵥ + H)
      return h.sumNumber().doubleValue();
    });
  }

  /** z ← log softmax(z) along each row, in place. */
  private static void logSoftmaxRows(INDArray z) {
    INDArray max = z.max(1);
    z.subiColumnVector(max);
    INDArray logSum = Transforms.log(Transforms.exp(z, true).sum(1), false);
    z.subiColumnVector(logSum);
  }

  /**
   * Expert Merging's hidden-state alignment: on each aligned layer ℓ, w · Σ over scored rows of
   * ‖hℓ − hℓ,ₑ‖² (the caller's w makes it a mean over layers, rows and dimensions, weighted).
   */
  static final class HiddenStates implements LlamaModel.BlockLoss {
    private final List<Integer> layers;
    private final Expected expected;
    private final INDArray rowMask; // (N, 1) 1 on scored rows
    private final double weight;
    private final Arena arena;
    private double value;

    /** The expert's output of one aligned layer, laid out as the batch (N, D). */
    interface Expected {
      INDArray of(int layer);
    }

    HiddenStates(List<Integer> layers, Expected expected, int[] targets, double weight, Arena arena) {
      this.layers = layers;
      this.expected = expected;
      this.weight = weight;
      this.arena = arena;
      double[] mask = new double[targets.length];
      for (int i = 0; i < mask.length; i++) {
        mask[i] = targets[i] == CrossEntropy.IGNORE ? 0 : 1;
      }
      this.rowMask = Nd4j.createFromArray(mask).castTo(arena.dataType()).reshape(mask.length, 1);
    }

    @Override
    public boolean reads(int layer) {
      return layers.contains(layer);
    }

    @Override
    public void addGradient(int layer, INDArray output, INDArray dOutput) {
      INDArray diff = arena.get("align.diff", output.shape());
      output.sub(expected.of(layer), diff).muliColumnVector(rowMask);
      value += weight * diff.mul(diff).sumNumber().doubleValue();
      dOutput.addi(diff.muli(2 * weight));
    }

    /** The loss over the layers read so far. */
    double value() {
      return value;
    }
  }
}

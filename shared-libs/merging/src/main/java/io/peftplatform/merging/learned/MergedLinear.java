package io.peftplatform.merging.learned;

import io.peftplatform.llama.nn.Arena;
import io.peftplatform.llama.nn.FrozenLinear;
import io.peftplatform.llama.nn.LinearLayer;
import io.peftplatform.llama.nn.Ops;
import java.util.List;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A linear module whose weight is the base's plus each expert's task vector scaled by a learned
 * coefficient per chunk of output rows: W = W₀ + Σₑ Σ_c cₑ,c · τₑ[rows of c], with chunk c of k covering
 * rows [⌊c·out/k⌋, ⌊(c+1)·out/k⌋). The merged weight is held, and rebuilt by {@link #refresh} whenever
 * the coefficients change; the backward gives the coefficients their gradient
 * ∂L/∂cₑ,c = ⟨∂L/∂W, τₑ⟩ over the chunk's rows, with ∂L/∂W = dyᵀ·x.
 */
final class MergedLinear implements LinearLayer {
  private final int module; // index among the merged modules
  private final FrozenLinear base; // W₀ (out, in) and bias
  private final INDArray merged; // (out, in) W
  private final List<INDArray> taskVectors; // per expert: (out, in), or null where the expert leaves the module alone
  private final Arena arena;
  private Coefficients coefficients;

  MergedLinear(int module, FrozenLinear base, List<INDArray> taskVectors, Coefficients coefficients, Arena arena) {
    this.module = module;
    this.base = base;
    this.taskVectors = taskVectors;
    this.coefficients = coefficients;
    this.arena = arena;
    try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
      this.merged = base.weight().dup('c');
    }
    refresh();
  }

  /** Switches to another set of coefficients (Expert Merging++'s second stage) and rebuilds W. */
  void use(Coefficients c) {
    this.coefficients = c;
    refresh();
  }

  /** W = W₀ + Σₑ Σ_c cₑ,c · τₑ[chunk rows], from the current coefficients. */
  void refresh() {
    merged.assign(base.weight());
    eachChunk(merged, (index, tauRows, rows) ->
        Nd4j.getBlasWrapper().level1().axpy(rows.length(), coefficients.value(index), tauRows, rows));
  }

  /** What is done with one chunk of one expert: its coefficient's index, τₑ's rows and another array's rows. */
  @FunctionalInterface
  private interface ChunkBody {
    void apply(int index, INDArray tauRows, INDArray rows);
  }

  /** {@code body} for every chunk of every expert that changes this module, with the same rows of {@code other} (out, in). */
  private void eachChunk(INDArray other, ChunkBody body) {
    int k = coefficients.chunks(module);
    for (int e = 0; e < taskVectors.size(); e++) {
      INDArray tau = taskVectors.get(e);
      if (tau != null) {
        for (int c = 0; c < k; c++) {
          body.apply(coefficients.index(module, e, c), rows(tau, c, k), rows(other, c, k));
        }
      }
    }
  }

  /** W as it stands (out, in). */
  INDArray weight() {
    return merged;
  }

  /** Σₑ Σ_c cₑ,c · τₑ[chunk rows] (out, in): what the merge adds to the base, as a new array. */
  INDArray delta() {
    return merged.sub(base.weight());
  }

  List<INDArray> taskVectors() {
    return taskVectors;
  }

  @Override
  public int inFeatures() {
    return base.inFeatures();
  }

  @Override
  public int outFeatures() {
    return base.outFeatures();
  }

  @Override
  public void forward(INDArray y, INDArray x) {
    Ops.gemm(y, x, false, merged, true, 1.0, 0.0);
    if (base.bias() != null) {
      y.addiRowVector(base.bias());
    }
  }

  @Override
  public void backward(INDArray dx, INDArray dy, INDArray x) {
    Ops.gemm(dx, dy, false, merged, false, 1.0, 1.0); // dx += dy · W
    INDArray dW = arena.get("merged.dW", merged.size(0), merged.size(1));
    Ops.gemm(dW, dy, true, x, false, 1.0, 0.0); // ∂L/∂W = dyᵀ · x
    eachChunk(dW, (index, tauRows, rows) -> coefficients.addValueGradient(index, Nd4j.getBlasWrapper().dot(rows, tauRows)));
  }

  /** Chunk c of k of a dense C-order (out, in) array: its rows [⌊c·out/k⌋, ⌊(c+1)·out/k⌋), as a flat view. */
  static INDArray rows(INDArray a, int c, int k) {
    long out = a.size(0);
    long in = a.size(1);
    long from = out * c / k;
    long to = out * (c + 1) / k;
    long[] shape = {(to - from) * in};
    return Nd4j.create(a.data(), shape, new long[] {1}, a.offset() + from * in, 'c', a.dataType());
  }
}

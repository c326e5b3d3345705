package io.peftplatform.adapters;

import io.peftplatform.llama.nn.Arena;
import io.peftplatform.llama.nn.FrozenLinear;
import io.peftplatform.llama.nn.Ops;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.reduce.floating.Norm2;
import org.nd4j.linalg.api.ops.impl.reduce.same.Sum;
import org.nd4j.linalg.factory.Nd4j;

/**
 * DoRA, as PEFT computes it: with W' = W + s·B·A and g = m / ‖W'‖ (row norms, treated as a constant in
 * backward, DoRA §4.3), y = W·x + b + (g − 1) ⊙ (W·x_d) + g ⊙ (s·B·A·x_d) where x_d = dropout(x); without
 * dropout that is y = g ⊙ (W'·x) + b. The bias is not rescaled.
 *
 * <p>Backward needs no cache beyond g and ‖W'‖: with G = dyᵀ·x_d (out, in), ∂m = rowsum(W' ⊙ G) / ‖W'‖,
 * ∂B = s·(g ⊙ G)·Aᵀ and ∂A = s·Bᵀ·(g ⊙ G).
 */
public final class DoraLinear extends AdapterLayer {
  private final INDArray a; // (r, in)
  private final INDArray b; // (out, r)
  private final INDArray magnitude; // (out)
  private boolean holdNorm; // tests: reuse the last ‖W'‖, i.e. the norm as a constant ("detached")

  DoraLinear(ModulePlan plan, FrozenLinear base, ParameterStore store, Arena arena, Dropout dropout) {
    super(plan, base, store, arena, dropout);
    this.a = param("lora_A");
    this.b = param("lora_B");
    this.magnitude = param("lora_magnitude_vector");
  }

  /** Initialises the magnitude to the row norms of W, so the adapted layer starts as the base one. */
  void initMagnitude() {
    Nd4j.exec(new Norm2(base.weight(), magnitude, 1));
  }

  /** W' = W + s·B·A in a scratch buffer. */
  private INDArray adaptedWeight() {
    INDArray w = arena.get("dora.w", plan.out(), plan.in());
    w.assign(base.storedWeight()); // converts a BF16 weight exactly
    Ops.gemm(w, b, false, a, false, plan.scaling(), 1.0);
    return w;
  }

  /**
   * With {@code hold}, forward keeps using the last ‖W'‖ instead of recomputing it — the norm as a
   * constant, which is what backward differentiates; for finite-difference checks.
   */
  void holdNorm(boolean hold) {
    this.holdNorm = hold;
  }

  /** Computes and keeps ‖W'‖ and g = m / ‖W'‖ for the module. */
  private INDArray scale(INDArray adapted) {
    INDArray norm = arena.get(cache("norm"), plan.out());
    if (!holdNorm) {
      Nd4j.exec(new Norm2(adapted, norm, 1));
    }
    INDArray g = arena.get(cache("g"), plan.out());
    magnitude.div(norm, g);
    return g;
  }

  @Override
  protected void forwardAdapted(INDArray y, INDArray x) {
    INDArray w = adaptedWeight();
    INDArray g = scale(w);
    if (!dropout.active()) {
      Ops.gemm(y, x, false, w, true, 1.0, 0.0);
      y.muliRowVector(g);
      if (base.bias() != null) {
        y.addiRowVector(base.bias());
      }
      return;
    }
    base.forward(y, x);
    INDArray xd = dropout.apply(x, arena);
    INDArray t = arena.get("dora.t", x.size(0), plan.out());
    Ops.gemm(t, xd, false, w, true, 1.0, 0.0);
    t.muliRowVector(g);
    y.addi(t);
    Ops.gemm(y, xd, false, base.weight(), true, -1.0, 1.0);
  }

  @Override
  public void backward(INDArray dx, INDArray dy, INDArray x) {
    INDArray w = adaptedWeight();
    INDArray norm = arena.get(cache("norm"), plan.out());
    INDArray g = arena.get(cache("g"), plan.out());
    INDArray xd = dropout.apply(x, arena);
    INDArray gram = arena.get("dora.G", plan.out(), plan.in());
    Ops.gemm(gram, dy, true, xd, false, 1.0, 0.0); // G = dyᵀ·x_d
    INDArray t = arena.get("dora.wg", plan.out(), plan.in());
    w.mul(gram, t);
    INDArray rowSums = arena.get("dora.rowsums", plan.out());
    Nd4j.exec(new Sum(t, rowSums, 1));
    grad("lora_magnitude_vector").addi(rowSums.divi(norm));
    Ops.broadcastMul(t, gram, g, 0); // g ⊙ G, row-wise
    Ops.gemm(grad("lora_B"), t, false, a, true, plan.scaling(), 1.0);
    Ops.gemm(grad("lora_A"), b, true, t, false, plan.scaling(), 1.0);
    INDArray dyg = arena.get("dora.dyg", dy.size(0), plan.out());
    Ops.broadcastMul(dyg, dy, g, 1);
    if (!dropout.active()) {
      Ops.gemm(dx, dyg, false, w, false, 1.0, 1.0);
      return;
    }
    base.backward(dx, dy, x);
    INDArray dxd = arena.get("dora.dxd", dy.size(0), plan.in());
    Ops.gemm(dxd, dyg, false, w, false, 1.0, 0.0);
    Ops.gemm(dxd, dy, false, base.weight(), false, -1.0, 1.0);
    dropout.backwardInto(dx, dxd, arena);
  }

  @Override
  public INDArray mergedWeight() {
    INDArray w = adaptedWeight().dup();
    INDArray norm = Nd4j.create(w.dataType(), plan.out());
    Nd4j.exec(new Norm2(w, norm, 1));
    return w.mulColumnVector(magnitude.div(norm));
  }
}

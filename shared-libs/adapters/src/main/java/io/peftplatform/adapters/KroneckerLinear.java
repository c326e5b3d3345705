package io.peftplatform.adapters;

import io.peftplatform.llama.nn.Arena;
import io.peftplatform.llama.nn.FrozenLinear;
import io.peftplatform.llama.nn.Ops;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Kronecker adapter (PEFT's LoKr): y = W·x + b + s·(W₁ ⊗ W₂)·dropout(x), W₁ (a, b), W₂ (c, d), each
 * stored whole or as a rank-r product.
 *
 * <p>(W₁ ⊗ W₂) is never materialised: the frozen product runs as for the layer alone (fp32, or BF16 under
 * bf16 precision), and s·(W₁ ⊗ W₂) is applied row by row — x viewed as X (b, d) gives s·W₁·X·W₂ᵀ (a, c) —
 * with its gradients, by {@link KroneckerFactored}: about a sixth of a dense product's work at smollm2's
 * factor sizes, where a weight-sized W' and G = dyᵀ·x would cost a third dense product.
 */
public final class KroneckerLinear extends AdapterLayer {
  private final Kronecker.Shape shape;

  KroneckerLinear(ModulePlan plan, FrozenLinear base, ParameterStore store, Arena arena, Dropout dropout) {
    super(plan, base, store, arena, dropout);
    this.shape = plan.kron();
  }

  /** W₁ (a, b) and W₂ (c, d), materialised from their factors when decomposed. */
  private INDArray[] factors() {
    INDArray w1;
    if (shape.fullW1()) {
      w1 = param("lokr_w1");
    } else {
      w1 = arena.get(cache("W1"), shape.a(), shape.b());
      Ops.gemm(w1, param("lokr_w1_a"), false, param("lokr_w1_b"), false, 1.0, 0.0);
    }
    INDArray w2;
    if (shape.fullW2()) {
      w2 = param("lokr_w2");
    } else {
      w2 = arena.get(cache("W2"), shape.c(), shape.d());
      Ops.gemm(w2, param("lokr_w2_a"), false, param("lokr_w2_b"), false, 1.0, 0.0);
    }
    return new INDArray[] {w1, w2};
  }

  @Override
  protected void forwardAdapted(INDArray y, INDArray x) {
    base.forward(y, x);
    INDArray[] w = factors();
    KroneckerFactored.forward(y, dropout.apply(x, arena), w[0], w[1], plan.scaling());
  }

  @Override
  public void backward(INDArray dx, INDArray dy, INDArray x) {
    INDArray[] w = factors();
    base.backward(dx, dy, x);
    INDArray dW1 = arena.get("kron.dW1", shape.a(), shape.b());
    INDArray dW2 = arena.get("kron.dW2", shape.c(), shape.d());
    if (dropout.active()) {
      INDArray dxd = arena.zeros("kron.dX", x.size(0), x.size(1));
      KroneckerFactored.backward(dxd, dy, dropout.apply(x, arena), w[0], w[1], plan.scaling(), dW1, dW2);
      dropout.backwardInto(dx, dxd, arena);
    } else {
      KroneckerFactored.backward(dx, dy, x, w[0], w[1], plan.scaling(), dW1, dW2);
    }
    accumulate(dW1, shape.fullW1(), "lokr_w1");
    accumulate(dW2, shape.fullW2(), "lokr_w2");
  }

  /** Adds a factor's gradient to its parameter, or through the rank-r product to both halves. */
  private void accumulate(INDArray dW, boolean full, String name) {
    if (full) {
      grad(name).addi(dW);
      return;
    }
    Ops.gemm(grad(name + "_a"), dW, false, param(name + "_b"), true, 1.0, 1.0); // dW·Bᵀ
    Ops.gemm(grad(name + "_b"), param(name + "_a"), true, dW, false, 1.0, 1.0); // Aᵀ·dW
  }

  /** s·(W₁ ⊗ W₂) (out, in). */
  public INDArray deltaWeight() {
    INDArray[] w = factors();
    int a = shape.a();
    int b = shape.b();
    int c = shape.c();
    int d = shape.d();
    // kron[i·c + k, j·d + l] = W₁[i, j]·W₂[k, l]: the outer product laid out as (a, c, b, d) → (a, b, c, d)
    INDArray outer = w[0].reshape('c', (long) a * b, 1).mmul(w[1].reshape('c', 1, (long) c * d)); // (a·b, c·d)
    INDArray kron = outer.reshape('c', a, b, c, d).permute(0, 2, 1, 3).dup('c').reshape('c', (long) a * c, (long) b * d);
    return kron.muli(plan.scaling());
  }

  @Override
  public INDArray mergedWeight() {
    return base.weight().add(deltaWeight());
  }
}

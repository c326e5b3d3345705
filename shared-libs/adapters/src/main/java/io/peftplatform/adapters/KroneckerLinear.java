package io.peftplatform.adapters;

import io.peftplatform.llama.nn.Arena;
import io.peftplatform.llama.nn.FrozenLinear;
import io.peftplatform.llama.nn.Ops;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Kronecker adapter (PEFT's LoKr): y = W·x + b + s·(W₁ ⊗ W₂)·dropout(x), W₁ (a, b), W₂ (c, d), each
 * stored whole or as a rank-r product.
 *
 * <p>Without dropout, and for a batch of rows (not a generated token), the layer multiplies by
 * W' = W + s·(W₁ ⊗ W₂), built in a scratch buffer for each product (a pass over the weight), so forward
 * and the input's gradient are one product each, as for the frozen layer alone; the factors' gradients
 * come from G = dyᵀ·x (out, in) contracted with the other factor ({@link KroneckerKernels}). Otherwise
 * (W₁ ⊗ W₂) is never materialised: with x viewed as X (b, d), the product viewed as Z (a, c) is
 * W₁·X·W₂ᵀ — two small matrix products per row block.
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

  /** T' (b, N·c): the rows of X·W₂ᵀ regrouped so W₁ multiplies every row block at once. */
  private INDArray transformedInput(INDArray xd, INDArray w2) {
    long n = xd.size(0);
    int b = shape.b();
    int c = shape.c();
    INDArray t = arena.get("kron.T", n * b, c);
    Ops.gemm(t, xd.reshape('c', n * b, shape.d()), false, w2, true, 1.0, 0.0); // (N·b, d)·(d, c)
    INDArray tp = arena.get("kron.Tp", b, n * c);
    tp.reshape('c', b, n, c).assign(t.reshape('c', n, b, c).permute(1, 0, 2));
    return tp;
  }

  /**
   * Whether products of {@code rows} rows use W' = W + s·(W₁ ⊗ W₂): no dropout, the base not multiplying in
   * BF16, and enough rows that building W' (out·in) costs less than the factored path's row-wise work
   * (rows·(in + out)) — a training batch, not a generated token.
   */
  private boolean mergedProducts(long rows) {
    return !dropout.active() && !base.bf16Products() && rows * (plan.in() + plan.out()) >= (long) plan.in() * plan.out();
  }

  /** W' = W + s·(W₁ ⊗ W₂) (out, in) in a scratch buffer. */
  private INDArray adaptedWeight(INDArray[] w) {
    INDArray adapted = arena.get("kron.w", plan.out(), plan.in());
    KroneckerKernels.compose(adapted, base.storedWeight(), w[0], w[1], plan.scaling());
    return adapted;
  }

  @Override
  protected void forwardAdapted(INDArray y, INDArray x) {
    if (mergedProducts(x.size(0))) {
      Ops.gemm(y, x, false, adaptedWeight(factors()), true, 1.0, 0.0);
      if (base.bias() != null) {
        y.addiRowVector(base.bias());
      }
      return;
    }
    base.forward(y, x);
    long n = x.size(0);
    INDArray[] w = factors();
    INDArray tp = transformedInput(dropout.apply(x, arena), w[1]);
    INDArray zp = arena.get("kron.Zp", shape.a(), n * shape.c());
    Ops.gemm(zp, w[0], false, tp, false, plan.scaling(), 0.0); // s·W₁·T' (a, N·c)
    y.reshape('c', n, shape.a(), shape.c()).addi(zp.reshape('c', shape.a(), n, shape.c()).permute(1, 0, 2));
  }

  @Override
  public void backward(INDArray dx, INDArray dy, INDArray x) {
    INDArray[] w = factors();
    if (mergedProducts(x.size(0))) {
      Ops.gemm(dx, dy, false, adaptedWeight(w), false, 1.0, 1.0); // dx += dy·W'
      INDArray gram = arena.get("kron.G", plan.out(), plan.in());
      Ops.gemm(gram, dy, true, x, false, 1.0, 0.0); // G = dyᵀ·x
      INDArray dW1 = arena.get("kron.dW1", shape.a(), shape.b());
      INDArray dW2 = arena.get("kron.dW2", shape.c(), shape.d());
      KroneckerKernels.contract(gram, w[0], w[1], plan.scaling(), dW1, dW2);
      accumulate(dW1, shape.fullW1(), "lokr_w1");
      accumulate(dW2, shape.fullW2(), "lokr_w2");
      return;
    }
    base.backward(dx, dy, x);
    long n = x.size(0);
    int a = shape.a();
    int b = shape.b();
    int c = shape.c();
    int d = shape.d();
    INDArray xd = dropout.apply(x, arena);
    INDArray tp = transformedInput(xd, w[1]);
    INDArray dzp = arena.get("kron.dZp", a, n * c); // s·dy regrouped as (a, N·c)
    dzp.reshape('c', a, n, c).assign(dy.reshape('c', n, a, c).permute(1, 0, 2));
    dzp.muli(plan.scaling());
    INDArray dW1 = arena.get("kron.dW1", a, b);
    Ops.gemm(dW1, dzp, false, tp, true, 1.0, 0.0); // dZ'·T'ᵀ
    INDArray dtp = arena.get("kron.dTp", b, n * c);
    Ops.gemm(dtp, w[0], true, dzp, false, 1.0, 0.0); // W₁ᵀ·dZ'
    INDArray dt = arena.get("kron.dT", n * b, c);
    dt.reshape('c', n, b, c).assign(dtp.reshape('c', b, n, c).permute(1, 0, 2));
    INDArray dW2 = arena.get("kron.dW2", c, d);
    Ops.gemm(dW2, dt, true, xd.reshape('c', n * b, d), false, 1.0, 0.0); // dTᵀ·X
    if (dropout.active()) {
      INDArray dxd = arena.get("kron.dX", n, (long) b * d);
      Ops.gemm(dxd.reshape('c', n * b, d), dt, false, w[1], false, 1.0, 0.0); // dT·W₂
      dropout.backwardInto(dx, dxd, arena);
    } else {
      Ops.gemm(dx.reshape('c', n * b, d), dt, false, w[1], false, 1.0, 1.0); // dx += dT·W₂
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

package io.peftplatform.adapters;

import io.peftplatform.llama.nn.Arena;
import io.peftplatform.llama.nn.FrozenLinear;
import io.peftplatform.llama.nn.Ops;
import io.peftplatform.llama.nn.Rows;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastDivOp;
import org.nd4j.linalg.api.ops.impl.reduce.floating.Norm2;
import org.nd4j.linalg.api.ops.impl.reduce.same.Sum;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.SubOp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * DoRA, as PEFT computes it: with W' = W + s·B·A and g = m / ‖W'‖ (row norms, treated as a constant in
 * backward, DoRA §4.3), y = W·x + b + (g − 1) ⊙ (W·x_d) + g ⊙ (s·B·A·x_d) where x_d = dropout(x); without
 * dropout that is y = g ⊙ (W'·x) + b. The bias is not rescaled.
 *
 * <p>Backward, with u = W'·x_d (N, out) the adapted output before g: ∂m = Σ_rows (dy ⊙ u) / ‖W'‖, and the
 * rest is LoRA's backward of g ⊙ dy — the frozen product and two thin ones, no weight-sized gradient
 * product. Forward keeps u, or, where the caller keeps y (and there is no bias or dropout), backward reads
 * it back as y / g.
 *
 * <p>Without dropout, in fp32, forward multiplies by W' composed for the step: one product, where the
 * frozen layer and the low-rank path would take three. Under BF16 products, or with dropout, the frozen
 * projection runs as the base layer does (in BF16 there) with the low-rank path beside it in fp32: a
 * composed W' rounded to BF16 would lose s·B·A. Outside training, with no backward to follow (generation,
 * evaluation), g is kept while the parameters are unchanged and the layer runs as LoRA's does.
 */
public final class DoraLinear extends AdapterLayer {
  /** Where backward finds u = W'·x_d. */
  private enum Kept { NONE, CACHE, OUTPUT }

  private final INDArray a; // (r, in)
  private final INDArray b; // (out, r)
  private final INDArray magnitude; // (out)
  private boolean holdNorm; // tests: reuse the last ‖W'‖, i.e. the norm as a constant ("detached")
  private Kept kept = Kept.NONE;
  private final KeptWhileUnchanged<INDArray> inferenceScale = new KeptWhileUnchanged<>(); // g outside training

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

  /**
   * Keeps ‖W'‖ (unless held) and g = m / ‖W'‖ for the module; returns g, and W' in a scratch buffer into
   * {@code adapted[0]} when {@code adapted} is given. fp32 weights (or BF16 ones) in one pass ({@link
   * DoraKernels#compose}), fp64 through BLAS.
   */
  private INDArray scale(INDArray[] adapted) {
    INDArray norm = arena.get(cache("norm"), plan.out());
    INDArray stored = base.storedWeight();
    if (Rows.simd(a, b, magnitude) && WeightRows.readable(stored)) {
      INDArray w = adapted == null ? null : arena.get("dora.w", plan.out(), plan.in());
      DoraKernels.compose(w, holdNorm ? null : norm, stored, b, a, (float) plan.scaling());
      if (adapted != null) {
        adapted[0] = w;
      }
    } else {
      INDArray w = adaptedWeight();
      if (!holdNorm) {
        Nd4j.exec(new Norm2(w, norm, 1));
      }
      if (adapted != null) {
        adapted[0] = w;
      }
    }
    INDArray g = arena.get(cache("g"), plan.out());
    magnitude.div(norm, g);
    return g;
  }

  /** Whether u = y / g gives u back to about an ulp: every |g| a normal number far from 0 and infinity. */
  private static boolean invertible(INDArray g) {
    double smallest = g.aminNumber().doubleValue();
    double largest = g.amaxNumber().doubleValue();
    return smallest > 1e-6 && largest < 1e6;
  }

  @Override
  protected void forwardAdapted(INDArray y, INDArray x) {
    forwardAdapted(y, x, Next.BACKWARD);
  }

  @Override
  protected void forwardAdapted(INDArray y, INDArray x, Next next) {
    boolean drop = dropout.active();
    boolean reuse = reusable(next) && !holdNorm && a.dataType() == DataType.FLOAT;
    boolean composed = !drop && !base.bf16Products() && !reuse; // multiplies by W' (else only its norms are needed)
    INDArray[] w = composed ? new INDArray[1] : null;
    // outside training g is kept while A, B and m are unchanged: no pass over the weight per generated token
    INDArray g = reuse ? inferenceScale.get(() -> scale(null).dup(), a, b, magnitude) : scale(w);
    long n = x.size(0);
    boolean fromOutput = next == Next.BACKWARD_WITH_OUTPUT && !drop && base.bias() == null && invertible(g);
    kept = next == Next.NOTHING ? Kept.NONE : fromOutput ? Kept.OUTPUT : Kept.CACHE;
    // u: kept for backward, or (no backward follows) a scratch buffer with dropout, else y itself
    INDArray u = kept == Kept.CACHE ? arena.get(cache("u"), n, plan.out()) : drop ? arena.get("dora.u", n, plan.out()) : y;
    INDArray xd = dropout.apply(x, arena);
    INDArray ax = arena.get(cache("ax"), n, plan.rank());
    if (!composed || kept != Kept.NONE) {
      Ops.gemm(ax, xd, false, a, true, 1.0, 0.0); // x_d·Aᵀ (N, r): the low-rank path's, or backward's
    }
    if (composed) {
      Ops.gemm(u, x, false, w[0], true, 1.0, 0.0); // u = x·W'ᵀ
      scaleInto(y, u, g);
      return;
    }
    INDArray wx = drop ? arena.get("dora.wx", n, plan.out()) : u;
    base.forward(wx, xd);
    if (base.bias() != null) {
      wx.subiRowVector(base.bias()); // W·x_d
    }
    if (drop) {
      u.assign(wx);
    }
    Ops.gemm(u, ax, false, b, true, plan.scaling(), 1.0); // u = W·x_d + s·B·A·x_d
    if (!drop) {
      scaleInto(y, u, g);
      return;
    }
    base.forward(y, x);
    y.subi(wx);
    INDArray t = arena.get("dora.t", n, plan.out());
    Ops.broadcastMul(t, u, g, 1);
    y.addi(t); // W·x + b + g ⊙ u − W·x_d
  }

  /** y = g ⊙ u + b; u may be y. */
  private void scaleInto(INDArray y, INDArray u, INDArray g) {
    if (u == y) {
      y.muliRowVector(g);
    } else {
      Ops.broadcastMul(y, u, g, 1);
    }
    if (base.bias() != null) {
      y.addiRowVector(base.bias());
    }
  }

  @Override
  public void backward(INDArray dx, INDArray dy, INDArray x) {
    backward(dx, dy, x, null);
  }

  @Override
  public void backward(INDArray dx, INDArray dy, INDArray x, INDArray y) {
    long n = dy.size(0);
    INDArray norm = arena.get(cache("norm"), plan.out());
    INDArray g = arena.get(cache("g"), plan.out());
    if (kept == Kept.NONE) {
      throw new IllegalStateException(module() + ": backward without a forward that expected it");
    }
    if (kept == Kept.OUTPUT && y == null) {
      throw new IllegalStateException(module() + ": forward was told its output is kept, backward was not given it");
    }
    INDArray u = kept == Kept.OUTPUT ? y : arena.get(cache("u"), n, plan.out());
    INDArray sums = arena.get("dora.sums", plan.out());
    INDArray dyg = arena.get("dora.dyg", n, plan.out());
    if (Rows.simd(dy, u, g, dyg) && Rows.dense(dy) && Rows.dense(u)) {
      DoraKernels.magnitudeRows(dyg, sums, dy, u, g, kept == Kept.OUTPUT);
    } else {
      INDArray t = arena.get("dora.t", n, plan.out());
      if (kept == Kept.OUTPUT) {
        Nd4j.exec(new BroadcastDivOp(y, g, t, 1)); // u = y / g
        t.muli(dy);
      } else {
        Nd4j.exec(new MulOp(dy, u, t));
      }
      Nd4j.exec(new Sum(t, sums, 0));
      Ops.broadcastMul(dyg, dy, g, 1); // g ⊙ dy
    }
    grad("lora_magnitude_vector").addi(sums.divi(norm)); // ∂m = Σ_rows (dy ⊙ u) / ‖W'‖
    kept = Kept.NONE;
    INDArray xd = dropout.apply(x, arena);
    if (dropout.active()) {
      base.backward(dx, dy, x); // W·x + b
      INDArray t = arena.get("dora.t", n, plan.out());
      Nd4j.exec(new SubOp(dyg, dy, t)); // (g − 1) ⊙ dy
      INDArray dxd = arena.zeros("dora.dxd", n, plan.in());
      base.backward(dxd, t, xd); // (g − 1) ⊙ W·x_d
      dropout.backwardInto(dx, dxd, arena);
    } else {
      base.backward(dx, dyg, x); // g ⊙ W·x
    }
    // g ⊙ s·B·A·x_d
    INDArray ax = arena.get(cache("ax"), n, plan.rank());
    LowRank.backward(grad("lora_A"), grad("lora_B"), dx, dyg, xd, ax, a, b, plan.scaling(), dropout, arena);
  }

  @Override
  public INDArray mergedWeight() {
    INDArray w = adaptedWeight().dup();
    INDArray norm = Nd4j.create(w.dataType(), plan.out());
    Nd4j.exec(new Norm2(w, norm, 1));
    return w.mulColumnVector(magnitude.div(norm));
  }
}

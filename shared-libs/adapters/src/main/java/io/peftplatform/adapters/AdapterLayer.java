package io.peftplatform.adapters;

import io.peftplatform.llama.nn.Arena;
import io.peftplatform.llama.nn.FrozenLinear;
import io.peftplatform.llama.nn.LinearLayer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A frozen projection with a trainable adapter beside it. Subclasses keep in the shared {@link Arena}
 * what their backward needs from forward (a few values per row at most) under names unique to the module.
 */
public abstract class AdapterLayer implements LinearLayer {
  protected final ModulePlan plan;
  protected final FrozenLinear base;
  protected final ParameterStore store;
  protected final Arena arena;
  protected final Dropout dropout;

  protected AdapterLayer(ModulePlan plan, FrozenLinear base, ParameterStore store, Arena arena, Dropout dropout) {
    if (base.inFeatures() != plan.in() || base.outFeatures() != plan.out()) {
      throw new IllegalArgumentException(plan.module() + ": adapter is " + plan.out() + "x" + plan.in()
          + " but the base weight is " + base.outFeatures() + "x" + base.inFeatures());
    }
    this.plan = plan;
    this.base = base;
    this.store = store;
    this.arena = arena;
    this.dropout = dropout;
  }

  /** y = the adapted projection of x; the base projection alone while the adapter is switched off. */
  @Override
  public final void forward(INDArray y, INDArray x) {
    forward(y, x, Next.BACKWARD);
  }

  @Override
  public final void forward(INDArray y, INDArray x, Next next) {
    if (dropout.mode().isEnabled()) {
      forwardAdapted(y, x, next);
    } else {
      base.forward(y, x);
    }
  }

  /** y (N, out) = the adapted projection of x (N, in); overwrites y. */
  protected abstract void forwardAdapted(INDArray y, INDArray x);

  /** {@link #forwardAdapted(INDArray, INDArray)}, told what follows. */
  protected void forwardAdapted(INDArray y, INDArray x, Next next) {
    forwardAdapted(y, x);
  }

  /**
   * Whether a forward may reuse what it derived from the parameters on an earlier call (if they are
   * unchanged): outside training, with no backward to follow — generation and evaluation.
   */
  protected boolean reusable(Next next) {
    return next == Next.NOTHING && !dropout.mode().isTraining();
  }

  public String module() {
    return plan.module();
  }

  public ModulePlan plan() {
    return plan;
  }

  @Override
  public int inFeatures() {
    return plan.in();
  }

  @Override
  public int outFeatures() {
    return plan.out();
  }

  /** The weight the adapted layer applies, W + ΔW (out, in), as a new array: for merging and export. */
  public abstract INDArray mergedWeight();

  /** ΔW = W + ΔW − W (out, in): what the adapter changes in this module, its task vector. */
  public INDArray delta() {
    return mergedWeight().subi(base.weight());
  }

  protected INDArray param(String tensor) {
    return store.value(plan.name(tensor));
  }

  protected INDArray grad(String tensor) {
    return store.grad(plan.name(tensor));
  }

  protected String cache(String what) {
    return plan.module() + "." + what;
  }
}

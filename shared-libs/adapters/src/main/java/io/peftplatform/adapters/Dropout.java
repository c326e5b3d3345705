package io.peftplatform.adapters;

import io.peftplatform.llama.nn.Arena;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.random.impl.BernoulliDistribution;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Inverted dropout on an adapter's input. Masks are never stored: each is drawn from a seed derived from
 * the current step's seed and the module, so backward regenerates exactly the mask forward used, and a
 * resumed run draws the same masks as an uninterrupted one.
 */
public final class Dropout {
  /**
   * Shared by all adapter layers of a model: whether we are training, this micro-batch's seed, and
   * whether the adapter is switched on (off, the model is its base: DPO's reference).
   */
  public static final class Mode {
    private boolean training;
    private long stepSeed;
    private boolean enabled = true;

    public void enabled(boolean on) {
      this.enabled = on;
    }

    public boolean isEnabled() {
      return enabled;
    }

    public void training(long stepSeed) {
      this.training = true;
      this.stepSeed = stepSeed;
    }

    public void inference() {
      this.training = false;
    }

    public boolean isTraining() {
      return training;
    }
  }

  private final double p;
  private final Mode mode;
  private final long moduleSalt;

  public Dropout(double p, Mode mode, String module) {
    this.p = p;
    this.mode = mode;
    this.moduleSalt = module.hashCode() * 0x9E3779B97F4A7C15L;
  }

  public Mode mode() {
    return mode;
  }

  public boolean active() {
    return p > 0 && mode.isTraining();
  }

  /** x itself when inactive, else x ⊙ mask / (1 − p) in a scratch buffer. */
  public INDArray apply(INDArray x, Arena arena) {
    if (!active()) {
      return x;
    }
    INDArray mask = mask(x.shape(), arena);
    INDArray out = arena.get("dropout.out", x.shape());
    x.mul(mask, out);
    return out;
  }

  /** dx += dxd ⊙ mask / (1 − p): the gradient through dropout into x. */
  public void backwardInto(INDArray dx, INDArray dxd, Arena arena) {
    if (!active()) {
      dx.addi(dxd);
      return;
    }
    INDArray mask = mask(dxd.shape(), arena);
    dxd.muli(mask);
    dx.addi(dxd);
  }

  private INDArray mask(long[] shape, Arena arena) {
    INDArray mask = arena.get("dropout.mask", shape);
    Nd4j.getRandom().setSeed(mode.stepSeed ^ moduleSalt);
    Nd4j.exec(new BernoulliDistribution(mask, 1 - p));
    mask.muli(1.0 / (1 - p));
    return mask;
  }
}

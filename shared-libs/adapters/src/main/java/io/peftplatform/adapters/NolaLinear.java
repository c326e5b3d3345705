package io.peftplatform.adapters;

import io.peftplatform.llama.nn.Arena;
import io.peftplatform.llama.nn.FrozenLinear;
import io.peftplatform.llama.nn.Ops;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * NOLA: LoRA whose factors are A = A₀ + Σᵢ αᵢ·Aᵢ and B = Σⱼ βⱼ·Bⱼ over frozen random bases regenerated
 * from a seed ({@link NolaBasis}); only α (k) and β (l) train. With α = β = 0 at the start, B = 0 and ΔW
 * starts at zero like LoRA's, while A = A₀ ≠ 0 lets β learn first. Outside training (generating), A and B
 * are kept while α and β are unchanged, so a token does not stream the bases again.
 */
public final class NolaLinear extends AdapterLayer {
  private final INDArray alpha; // (k)
  private final INDArray beta; // (l)
  private final INDArray a0; // (r, in) frozen
  private final INDArray aBases; // (k, r·in) frozen
  private final INDArray bBases; // (l, out·r) frozen
  private final KeptWhileUnchanged<INDArray[]> combined = new KeptWhileUnchanged<>(); // A and B outside training

  NolaLinear(ModulePlan plan, FrozenLinear base, ParameterStore store, Arena arena, Dropout dropout, long basisSeed) {
    super(plan, base, store, arena, dropout);
    this.alpha = param("nola_alpha");
    this.beta = param("nola_beta");
    INDArray[] bases = bases(plan, (int) alpha.length(), (int) beta.length(), basisSeed, store.dataType());
    this.a0 = bases[0];
    this.aBases = bases[1];
    this.bBases = bases[2];
  }

  /** The module's frozen bases {A₀ (r, in), A₁…A_k as (k, r·in), B₁…B_l as (l, out·r)}. */
  static INDArray[] bases(ModulePlan plan, int k, int l, long basisSeed, DataType type) {
    int r = plan.rank();
    NolaBasis gen = new NolaBasis(basisSeed, plan.module());
    float[] a0Values = new float[r * plan.in()];
    gen.fill(a0Values, plan.in());
    float[] aValues = new float[k * r * plan.in()];
    gen.fill(aValues, plan.in());
    float[] bValues = new float[l * plan.out() * r];
    gen.fill(bValues, r);
    try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
      return new INDArray[] {
        Nd4j.create(a0Values, new long[] {r, plan.in()}, 'c').castTo(type),
        Nd4j.create(aValues, new long[] {k, (long) r * plan.in()}, 'c').castTo(type),
        Nd4j.create(bValues, new long[] {l, (long) plan.out() * r}, 'c').castTo(type)
      };
    }
  }

  /**
   * The LoRA factors {A (r, in), B (out, r)} of a module's coefficients, computed from the seed alone:
   * what export writes, without loading the base model.
   */
  public static INDArray[] loraFactors(ModulePlan plan, INDArray alpha, INDArray beta, long basisSeed) {
    INDArray[] b = bases(plan, (int) alpha.length(), (int) beta.length(), basisSeed, alpha.dataType());
    INDArray a = b[0].dup();
    a.reshape('c', 1, a.length()).addi(alpha.reshape('c', 1, alpha.length()).mmul(b[1]));
    INDArray bMatrix = beta.reshape('c', 1, beta.length()).mmul(b[2]).reshape('c', plan.out(), plan.rank());
    return new INDArray[] {a, bMatrix};
  }

  /** A = A₀ + Σ αᵢAᵢ (r, in) and B = Σ βⱼBⱼ (out, r), into the module's cache. */
  private INDArray[] factors() {
    int r = plan.rank();
    INDArray a = arena.get(cache("A"), r, plan.in());
    INDArray b = arena.get(cache("B"), plan.out(), r);
    if (streamed()) {
      NolaKernels.combine(a, a0, alpha, aBases);
      NolaKernels.combine(b, null, beta, bBases);
      return new INDArray[] {a, b};
    }
    a.assign(a0);
    Ops.gemm(a.reshape('c', 1, (long) r * plan.in()), alpha.reshape('c', 1, alpha.length()), false, aBases, false, 1.0, 1.0);
    Ops.gemm(b.reshape('c', 1, (long) plan.out() * r), beta.reshape('c', 1, beta.length()), false, bBases, false, 1.0, 0.0);
    return new INDArray[] {a, b};
  }

  @Override
  protected void forwardAdapted(INDArray y, INDArray x) {
    forwardAdapted(y, x, Next.BACKWARD);
  }

  @Override
  protected void forwardAdapted(INDArray y, INDArray x, Next next) {
    base.forward(y, x);
    INDArray[] ab = reusable(next) && streamed() ? combined.get(() -> copies(factors()), alpha, beta) : factors();
    INDArray ax = arena.get(cache("ax"), x.size(0), plan.rank());
    LowRank.forward(y, ax, dropout.apply(x, arena), ab[0], ab[1], plan.scaling());
  }

  @Override
  public void backward(INDArray dx, INDArray dy, INDArray x) {
    base.backward(dx, dy, x);
    int r = plan.rank();
    INDArray a = arena.get(cache("A"), r, plan.in());
    INDArray b = arena.get(cache("B"), plan.out(), r);
    INDArray ax = arena.get(cache("ax"), x.size(0), r);
    INDArray dA = arena.zeros("nola.dA", r, plan.in());
    INDArray dB = arena.zeros("nola.dB", plan.out(), r);
    LowRank.backward(dA, dB, dx, dy, dropout.apply(x, arena), ax, a, b, plan.scaling(), dropout, arena);
    // ∂αᵢ = ⟨∂A, Aᵢ⟩, ∂βⱼ = ⟨∂B, Bⱼ⟩
    INDArray dAlpha = grad("nola_alpha");
    INDArray dBeta = grad("nola_beta");
    if (streamed()) {
      NolaKernels.project(dAlpha, dA, aBases);
      NolaKernels.project(dBeta, dB, bBases);
      return;
    }
    Ops.gemm(dAlpha.reshape('c', 1, dAlpha.length()), dA.reshape('c', 1, dA.length()), false, aBases, true, 1.0, 1.0);
    Ops.gemm(dBeta.reshape('c', 1, dBeta.length()), dB.reshape('c', 1, dB.length()), false, bBases, true, 1.0, 1.0);
  }

  private static INDArray[] copies(INDArray[] arrays) {
    return new INDArray[] {arrays[0].dup(), arrays[1].dup()};
  }

  /** fp32 bases go through {@link NolaKernels}; fp64 ones (finite-difference tests) through BLAS. */
  private boolean streamed() {
    return aBases.dataType() == DataType.FLOAT && alpha.dataType() == DataType.FLOAT;
  }

  @Override
  public INDArray mergedWeight() {
    INDArray[] ab = factors();
    INDArray w = base.weight().dup();
    Ops.gemm(w, ab[1], false, ab[0], false, plan.scaling(), 1.0);
    return w;
  }
}

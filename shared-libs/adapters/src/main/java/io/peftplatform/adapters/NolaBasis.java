package io.peftplatform.adapters;

/**
 * The frozen random bases of NOLA, specified so any implementation reproduces them bit for bit
 * (docs/nola.md):
 *
 * <ol>
 *   <li>Stream seed: {@code basisSeed XOR FNV-1a-64(UTF-8 bytes of the module path)}, e.g. of
 *       {@code model.layers.0.self_attn.q_proj}.
 *   <li>Generator: SplitMix64 from that state; each element consumes one 64-bit output z.
 *   <li>Element: u = (z >>> 40) · 2⁻²⁴ (an exact float in [0, 1)); value = (2u − 1) · bound in IEEE
 *       float32 arithmetic, bound = float32(1/√fan_in): fan_in = in for A bases, r for B bases.
 *   <li>Order: A₀ (r×in), then A₁ … A_k (each r×in), then B₁ … B_l (each out×r), all row-major.
 * </ol>
 */
public final class NolaBasis {
  private final SeededStream stream;

  public NolaBasis(long basisSeed, String module) {
    this.stream = new SeededStream(basisSeed, module);
  }

  /** Fills {@code out} with the next values, uniform in (−bound, bound) for bound = 1/√fanIn. */
  public void fill(float[] out, int fanIn) {
    float bound = (float) (1.0 / Math.sqrt(fanIn));
    for (int i = 0; i < out.length; i++) {
      float u = stream.nextUniform24();
      out[i] = (2f * u - 1f) * bound;
    }
  }
}

package io.peftplatform.llama.config;

/**
 * {@code rope_scaling} of config.json. Types: {@code llama3} (Llama 3.1+: long wavelengths divided by
 * {@code factor}, short ones kept, a smooth ramp between) and {@code linear} (every frequency divided by
 * {@code factor}); {@code default} means none.
 */
public record RopeScaling(
    String type,
    double factor,
    double lowFreqFactor,
    double highFreqFactor,
    int originalMaxPositionEmbeddings) {

  public static RopeScaling linear(double factor) {
    return new RopeScaling("linear", factor, 0, 0, 0);
  }

  public static RopeScaling llama3(
      double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositionEmbeddings) {
    return new RopeScaling("llama3", factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings);
  }

  /**
   * RoPE inverse frequencies {@code 1 / theta^(2i/d)} for i in [0, d/2), scaled as this configuration
   * says, in double precision.
   */
  public static double[] inverseFrequencies(int headDim, double theta, RopeScaling scaling) {
    int half = headDim / 2;
    double[] inv = new double[half];
    for (int i = 0; i < half; i++) {
      inv[i] = 1.0 / Math.pow(theta, (2.0 * i) / headDim);
    }
    if (scaling == null || scaling.type.equals("default")) {
      return inv;
    }
    if (scaling.type.equals("linear")) {
      for (int i = 0; i < half; i++) {
        inv[i] = inv[i] / scaling.factor;
      }
      return inv;
    }
    // llama3
    double oldContext = scaling.originalMaxPositionEmbeddings;
    double lowFreqWavelen = oldContext / scaling.lowFreqFactor;
    double highFreqWavelen = oldContext / scaling.highFreqFactor;
    for (int i = 0; i < half; i++) {
      double wavelen = 2 * Math.PI / inv[i];
      if (wavelen > lowFreqWavelen) {
        inv[i] = inv[i] / scaling.factor;
      } else if (wavelen >= highFreqWavelen) {
        double smooth =
            (oldContext / wavelen - scaling.lowFreqFactor)
                / (scaling.highFreqFactor - scaling.lowFreqFactor);
        inv[i] = (1 - smooth) * inv[i] / scaling.factor + smooth * inv[i];
      }
    }
    return inv;
  }
}

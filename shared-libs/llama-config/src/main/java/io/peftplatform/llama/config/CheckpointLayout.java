package io.peftplatform.llama.config;

import io.peftplatform.safetensors.TensorInfo;
import io.peftplatform.safetensors.TensorSource;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The tensors a Llama-family checkpoint must hold, by Hugging Face name and shape, and the check that a
 * checkpoint holds them — from headers alone, without loading weights or a numeric library.
 */
public final class CheckpointLayout {
  private CheckpointLayout() {}

  /** Every tensor the configuration implies, with its shape, in checkpoint order. */
  public static Map<String, long[]> expectedShapes(LlamaConfig c) {
    Map<String, long[]> shapes = new LinkedHashMap<>();
    long d = c.hiddenSize();
    long f = c.intermediateSize();
    shapes.put(WeightNames.EMBED_TOKENS, new long[] {c.vocabSize(), d});
    for (int i = 0; i < c.numLayers(); i++) {
      shapes.put(WeightNames.inputNorm(i), new long[] {d});
      addLinear(shapes, i, "q_proj", c.qDim(), d, c.attentionQkvBias());
      addLinear(shapes, i, "k_proj", c.kvDim(), d, c.attentionQkvBias());
      addLinear(shapes, i, "v_proj", c.kvDim(), d, c.attentionQkvBias());
      addLinear(shapes, i, "o_proj", d, c.qDim(), c.attentionOutputBias());
      shapes.put(WeightNames.postAttentionNorm(i), new long[] {d});
      addLinear(shapes, i, "gate_proj", f, d, c.mlpBias());
      addLinear(shapes, i, "up_proj", f, d, c.mlpBias());
      addLinear(shapes, i, "down_proj", d, f, c.mlpBias());
    }
    shapes.put(WeightNames.FINAL_NORM, new long[] {d});
    if (!c.tieWordEmbeddings()) {
      shapes.put(WeightNames.LM_HEAD, new long[] {c.vocabSize(), d});
    }
    return shapes;
  }

  private static void addLinear(Map<String, long[]> shapes, int layer, String module, long out, long in, boolean bias) {
    String prefix = WeightNames.linearModule(layer, module);
    shapes.put(prefix + ".weight", new long[] {out, in});
    if (bias) {
      shapes.put(prefix + ".bias", new long[] {out});
    }
  }

  /**
   * Checks that the checkpoint holds every tensor the configuration implies, with that shape and a
   * floating-point type, without loading any. Fails naming the first tensor at fault.
   */
  public static void validate(LlamaConfig config, TensorSource source) {
    for (Map.Entry<String, long[]> e : expectedShapes(config).entrySet()) {
      Optional<TensorInfo> info = source.find(e.getKey());
      if (info.isEmpty()) {
        throw new ModelException(source.location() + ": missing tensor " + e.getKey());
      }
      if (!Arrays.equals(info.get().shape(), e.getValue())) {
        throw new ModelException(
            source.location() + ": tensor " + e.getKey() + " has shape " + info.get().shapeString()
                + " but config.json implies " + Arrays.toString(e.getValue()));
      }
      if (!info.get().dtype().isFloatingPoint()) {
        throw new ModelException(
            source.location() + ": tensor " + e.getKey() + " is " + info.get().dtype()
                + "; weights must be F32, F16, BF16 or F64 (quantized checkpoints are not supported)");
      }
    }
  }

}

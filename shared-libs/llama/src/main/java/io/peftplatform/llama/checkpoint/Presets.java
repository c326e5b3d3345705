package io.peftplatform.llama.checkpoint;

import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.config.ModelException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Named model shapes for generated checkpoints: tests, demos and benchmarks. */
public final class Presets {
  private static final Map<String, LlamaConfig> PRESETS = new LinkedHashMap<>();

  static {
    // Two layers, GQA, untied head: fast enough for every test.
    PRESETS.put("tiny", config(512, 64, 176, 2, 4, 2, 16, 10000.0, 512, false));
    // Large enough to learn a toy task in a demo within a minute or two on a laptop.
    PRESETS.put("small", config(1024, 256, 688, 4, 8, 4, 32, 10000.0, 2048, true));
    // SmolLM2-135M's shape: hidden 576, 30 layers, 9 heads / 3 KV heads, intermediate 1536, tied.
    PRESETS.put("smollm2-135m-shape", config(49152, 576, 1536, 30, 9, 3, 64, 100000.0, 8192, true));
    // TinyLlama-1.1B's shape: hidden 2048, 22 layers, 32 heads / 4 KV heads, intermediate 5632, vocab 32000, untied.
    PRESETS.put("tinyllama-1.1b-shape", config(32000, 2048, 5632, 22, 32, 4, 64, 10000.0, 2048, false));
  }

  private Presets() {}

  private static LlamaConfig config(
      int vocab, int hidden, int inter, int layers, int heads, int kvHeads, int headDim, double theta, int context, boolean tied) {
    return new LlamaConfig(
        LlamaConfig.LLAMA, vocab, hidden, inter, layers, heads, kvHeads, headDim, 1e-5, theta, null, context,
        tied, false, false, false, 0, 0, List.of(0), "float32");
  }

  public static List<String> names() {
    return List.copyOf(PRESETS.keySet());
  }

  public static LlamaConfig get(String name) {
    LlamaConfig c = PRESETS.get(name);
    if (c == null) {
      throw new ModelException("unknown preset '" + name + "'; presets: " + String.join(", ", PRESETS.keySet()));
    }
    return c;
  }
}

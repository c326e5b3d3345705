package io.peftplatform.artifacts;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftplatform.llama.config.CheckpointLayout;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.safetensors.DType;
import io.peftplatform.safetensors.SafetensorsWriter;
import io.peftplatform.text.bpe.GeneratedTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;

/** A small valid Hugging Face model directory (zero weights: validation reads headers only). */
public final class TinyModel {
  public static final LlamaConfig CONFIG = new LlamaConfig(LlamaConfig.LLAMA, 512, 32, 64, 2, 4, 2, 8, 1e-5, 10000, null, 256,
      false, false, false, false, 0, 0, List.of(0), "float32");

  private TinyModel() {}

  public static Path write(Path dir) throws IOException {
    return write(dir, c -> c);
  }

  /** With config.json edited, e.g. to name another architecture. */
  public static Path write(Path dir, UnaryOperator<ObjectNode> editConfig) throws IOException {
    Files.createDirectories(dir);
    ObjectMapper json = new ObjectMapper();
    Files.writeString(dir.resolve("config.json"), json.writeValueAsString(editConfig.apply(CONFIG.toJson())));
    SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
    CheckpointLayout.expectedShapes(CONFIG).forEach((name, shape) -> {
      long n = 1;
      for (long d : shape) {
        n *= d;
      }
      w.add(name, DType.F32, shape, new float[(int) n]);
    });
    w.write(dir.resolve("model.safetensors"));
    GeneratedTokenizer.write(dir, 512, 256);
    return dir;
  }
}

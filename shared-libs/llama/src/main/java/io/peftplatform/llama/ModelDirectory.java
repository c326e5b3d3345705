package io.peftplatform.llama;

import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.config.ModelException;
import io.peftplatform.safetensors.Checkpoints;
import io.peftplatform.safetensors.SafetensorsException;
import io.peftplatform.safetensors.TensorSource;
import io.peftplatform.text.TextException;
import io.peftplatform.text.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.nd4j.linalg.api.buffer.DataType;

/** A Hugging Face model directory: config.json, safetensors weights, tokenizer files. */
public final class ModelDirectory {
  private ModelDirectory() {}

  public static LlamaConfig config(Path dir) {
    requireDirectory(dir);
    return LlamaConfig.read(dir);
  }

  /** Loads the weights of a directory in the given compute precision. */
  public static LlamaModel loadModel(Path dir, DataType dataType) {
    LlamaConfig config = config(dir);
    try (TensorSource tensors = Checkpoints.open(dir)) {
      return new LlamaModel(config, LlamaWeights.load(config, tensors, dataType));
    } catch (SafetensorsException e) {
      throw new ModelException(e.getMessage(), e);
    }
  }

  public static Tokenizer tokenizer(Path dir) {
    requireDirectory(dir);
    try {
      return Tokenizer.load(dir);
    } catch (TextException e) {
      throw new ModelException(e.getMessage(), e);
    }
  }

  private static void requireDirectory(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new ModelException(dir + ": no such model directory");
    }
  }
}

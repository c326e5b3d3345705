package io.peftplatform.artifacts.service;

import io.peftplatform.llama.config.CheckpointLayout;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.config.ModelException;
import io.peftplatform.safetensors.Checkpoints;
import io.peftplatform.safetensors.SafetensorsException;
import io.peftplatform.safetensors.TensorSource;
import io.peftplatform.text.TextException;
import io.peftplatform.text.Tokenizer;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.file.Path;

/**
 * Checks a model directory before it becomes ready: a supported architecture in config.json, every tensor
 * the configuration implies with the right shape in the safetensors headers, and a tokenizer that loads.
 * Reads headers only, never the weights.
 */
@ApplicationScoped
public class ModelValidator {
  /** What a valid model is. */
  public record Summary(String architecture, long parameters) {}

  /** A model that fails validation; code is machine-readable. */
  public static final class InvalidModel extends RuntimeException {
    public final String code;

    InvalidModel(String code, String message) {
      super(message);
      this.code = code;
    }
  }

  public Summary validate(Path dir) {
    LlamaConfig config;
    try {
      config = LlamaConfig.read(dir);
    } catch (ModelException e) {
      throw new InvalidModel(e.getMessage().contains("not supported") ? "unsupported_architecture" : "invalid_config", strip(dir, e.getMessage()));
    }
    try (TensorSource tensors = Checkpoints.open(dir)) {
      CheckpointLayout.validate(config, tensors);
    } catch (ModelException | SafetensorsException e) {
      throw new InvalidModel("invalid_weights", strip(dir, e.getMessage()));
    }
    try (Tokenizer t = Tokenizer.load(dir)) {
      if (t.vocabSize() > config.vocabSize()) {
        throw new InvalidModel("invalid_tokenizer", "the tokenizer has " + t.vocabSize() + " tokens but the model's vocabulary is " + config.vocabSize());
      }
    } catch (TextException e) {
      throw new InvalidModel("invalid_tokenizer", strip(dir, e.getMessage()));
    }
    return new Summary(config.architecture(), config.parameterCount());
  }

  /** Messages name files relative to the model, not the service's scratch directory. */
  private static String strip(Path dir, String message) {
    return message.replace(dir.toAbsolutePath() + "/", "").replace(dir + "/", "").replace(dir.toString(), "model");
  }
}

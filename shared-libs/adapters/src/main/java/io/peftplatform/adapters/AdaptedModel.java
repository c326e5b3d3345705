package io.peftplatform.adapters;

import io.peftplatform.llama.LlamaModel;
import io.peftplatform.llama.LlamaWeights;
import io.peftplatform.llama.ModelDirectory;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.config.ModelException;
import io.peftplatform.safetensors.Checkpoints;
import io.peftplatform.safetensors.SafetensorsException;
import io.peftplatform.safetensors.TensorSource;
import java.nio.file.Path;
import org.nd4j.linalg.api.buffer.DataType;

/** A base model directory, optionally with an adapter directory applied (unmerged). */
public final class AdaptedModel {
  private AdaptedModel() {}

  /** @param adapterDir an adapter directory, or null for the base model alone */
  public static LlamaModel load(Path modelDir, Path adapterDir, DataType dataType) {
    if (adapterDir == null) {
      return ModelDirectory.loadModel(modelDir, dataType);
    }
    LlamaConfig config = ModelDirectory.config(modelDir);
    Adapter adapter = AdapterFiles.read(adapterDir, config, dataType);
    return adapter.attach(weights(modelDir, config, dataType));
  }

  public static LlamaWeights weights(Path modelDir, LlamaConfig config, DataType dataType) {
    return weights(modelDir, config, dataType, false);
  }

  /** @param keepBf16Projections keep the projections a checkpoint stores in BF16 in BF16 (training: half their memory) */
  public static LlamaWeights weights(Path modelDir, LlamaConfig config, DataType dataType, boolean keepBf16Projections) {
    try (TensorSource tensors = Checkpoints.open(modelDir)) {
      return LlamaWeights.load(config, tensors, dataType, keepBf16Projections);
    } catch (SafetensorsException e) {
      throw new ModelException(e.getMessage(), e);
    }
  }
}

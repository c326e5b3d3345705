package io.peftplatform.merging.learned;

import io.peftplatform.adapters.Adapter;
import io.peftplatform.adapters.AdapterFiles;
import io.peftplatform.adapters.AdapterLayer;
import io.peftplatform.llama.LlamaModel;
import io.peftplatform.llama.LlamaWeights;
import io.peftplatform.llama.ModelDirectory;
import io.peftplatform.llama.config.CheckpointLayout;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.config.ModelException;
import io.peftplatform.llama.nn.FrozenLinear;
import io.peftplatform.safetensors.Checkpoints;
import io.peftplatform.safetensors.SafetensorsException;
import io.peftplatform.safetensors.TensorSource;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One model a learned merge folds in: an adapter of the base model, or a whole fine-tuned model of the
 * same architecture. Either way it is the base plus task vectors: τ = W_expert − W_base per tensor.
 */
public abstract sealed class Expert permits Expert.OfAdapter, Expert.OfModel {
  private final String name;

  private Expert(String name) {
    this.name = name;
  }

  /** How messages and the merge record name it (a path, an id). */
  public String name() {
    return name;
  }

  /** τ (out, in) of a linear module given its base projection; null where the expert leaves it alone. */
  abstract INDArray taskVector(String module, FrozenLinear base);

  /** The expert as a model (an adapter over the base weights), to compute its outputs. */
  abstract LlamaModel asModel(LlamaConfig config, LlamaWeights base);

  /**
   * The expert's tensors other than the linear modules' weights (embeddings, norms, the head, biases),
   * by checkpoint name; empty for an adapter, which changes none of them.
   */
  abstract Map<String, INDArray> otherTensors();

  /** The expert's LM head (V, D), or null for the base's; kept after {@link #release}. */
  abstract INDArray head();

  /** Lets go of a whole model's weights but its head: task vectors and other tensors already taken stay valid. */
  abstract void release();

  /** An adapter directory trained on the base model (any method: its task vector is W + ΔW − W). */
  public static Expert adapter(String name, Path dir, LlamaConfig config, DataType dataType) {
    return new OfAdapter(name, dir, config, dataType);
  }

  /** A whole model directory with the base's architecture and shapes. */
  public static Expert model(String name, Path dir, LlamaConfig baseConfig, DataType dataType) {
    LlamaConfig config = ModelDirectory.config(dir);
    Map<String, long[]> want = CheckpointLayout.expectedShapes(baseConfig);
    Map<String, long[]> got = CheckpointLayout.expectedShapes(config);
    boolean same = want.keySet().equals(got.keySet()) && want.keySet().stream().allMatch(k -> Arrays.equals(want.get(k), got.get(k)))
        && config.architecture().equals(baseConfig.architecture());
    if (!same) {
      throw new ModelException(name + ": not the base model's architecture and shapes (" + config.architecture() + ", "
          + config.numLayers() + " layers, hidden " + config.hiddenSize() + ", vocabulary " + config.vocabSize() + "); an expert is a"
          + " fine-tune of the base");
    }
    try (TensorSource tensors = Checkpoints.open(dir)) {
      return new OfModel(name, baseConfig, LlamaWeights.load(baseConfig, tensors, dataType));
    } catch (SafetensorsException e) {
      throw new ModelException(name + ": " + e.getMessage(), e);
    }
  }

  static final class OfAdapter extends Expert {
    private final Path dir;
    private final LlamaConfig config;
    private final DataType dataType;
    private final Adapter adapter; // for task vectors, one module at a time

    OfAdapter(String name, Path dir, LlamaConfig config, DataType dataType) {
      super(name);
      this.dir = dir;
      this.config = config;
      this.dataType = dataType;
      this.adapter = AdapterFiles.read(dir, config, dataType);
    }

    @Override
    INDArray taskVector(String module, FrozenLinear base) {
      AdapterLayer layer = adapter.layerOn(module, base);
      return layer == null ? null : layer.delta();
    }

    @Override
    LlamaModel asModel(LlamaConfig config, LlamaWeights base) {
      // an adapter attaches to one model; for inference (NOLA without its bases)
      Adapter attached = AdapterFiles.read(dir, config, dataType).forInference();
      LlamaModel model = attached.attach(base);
      attached.inference();
      return model;
    }

    @Override
    Map<String, INDArray> otherTensors() {
      return Map.of();
    }

    @Override
    INDArray head() {
      return null;
    }

    @Override
    void release() {}
  }

  static final class OfModel extends Expert {
    private final LlamaConfig config;
    private final INDArray head; // (V, D)
    private LlamaWeights weights;

    OfModel(String name, LlamaConfig config, LlamaWeights weights) {
      super(name);
      this.config = config;
      this.weights = weights;
      this.head = weights.lmHead;
    }

    private LlamaWeights weights() {
      if (weights == null) {
        throw new IllegalStateException(name() + ": released");
      }
      return weights;
    }

    @Override
    INDArray taskVector(String module, FrozenLinear base) {
      int layer = Integer.parseInt(module.split("\\.")[2]);
      String name = module.substring(module.lastIndexOf('.') + 1);
      return weights().layers[layer].weight(name).sub(base.weight());
    }

    @Override
    LlamaModel asModel(LlamaConfig config, LlamaWeights base) {
      return new LlamaModel(config, weights());
    }

    @Override
    Map<String, INDArray> otherTensors() {
      Map<String, INDArray> all = new java.util.LinkedHashMap<>(weights().byName(config));
      all.keySet().removeIf(n -> n.endsWith("_proj.weight"));
      return all;
    }

    @Override
    INDArray head() {
      return head;
    }

    @Override
    void release() {
      weights = null; // freed by a later collection; task vectors are copies
    }
  }
}

package io.peftplatform.merging;

import io.peftplatform.adapters.AdaptedModel;
import io.peftplatform.adapters.Adapter;
import io.peftplatform.adapters.AdapterFiles;
import io.peftplatform.adapters.AdapterLayer;
import io.peftplatform.llama.LlamaWeights;
import io.peftplatform.llama.ModelDirectory;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.config.WeightNames;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Adapters of one base model, each attached to the same base weights (loaded once), giving their task
 * vectors one module at a time so a merge holds one module's vectors at once, not the whole model's.
 */
public final class AdapterSet {
  private final LlamaConfig config;
  private final LlamaWeights base;
  private final List<Adapter> adapters;
  /** module path → base weight (out, in), for every linear module of the model */
  private final Map<String, INDArray> baseWeights = new TreeMap<>();

  private AdapterSet(LlamaConfig config, LlamaWeights base, List<Adapter> adapters) {
    this.config = config;
    this.base = base;
    this.adapters = adapters;
    for (int i = 0; i < base.layers.length; i++) {
      for (String m : WeightNames.LINEAR_MODULES) {
        baseWeights.put(WeightNames.linearModule(i, m), base.layers[i].weight(m));
      }
    }
  }

  /** Reads the base model and every adapter (each must fit the base: same modules' shapes). */
  public static AdapterSet load(Path modelDir, List<Path> adapterDirs, DataType dataType) {
    if (adapterDirs.isEmpty()) {
      throw new IllegalArgumentException("at least one adapter is needed");
    }
    LlamaConfig config = ModelDirectory.config(modelDir);
    LlamaWeights base = AdaptedModel.weights(modelDir, config, dataType);
    List<Adapter> adapters = new ArrayList<>();
    for (Path dir : adapterDirs) {
      Adapter a = AdapterFiles.read(dir, config, dataType);
      a.attach(base);
      adapters.add(a);
    }
    return new AdapterSet(config, base, adapters);
  }

  public LlamaConfig config() {
    return config;
  }

  public LlamaWeights base() {
    return base;
  }

  public int size() {
    return adapters.size();
  }

  /** Every module at least one adapter changes, in path order. */
  public List<String> modules() {
    return baseWeights.keySet().stream().filter(m -> adapters.stream().anyMatch(a -> a.layer(m) != null)).toList();
  }

  public INDArray baseWeight(String module) {
    INDArray w = baseWeights.get(module);
    if (w == null) {
      throw new IllegalArgumentException("no linear module " + module + " in this model");
    }
    return w;
  }

  /** τᵢ (out, in) of the module for each adapter in order; zeros for an adapter that leaves it alone. */
  public List<INDArray> taskVectors(String module) {
    INDArray w = baseWeight(module);
    List<INDArray> out = new ArrayList<>();
    for (Adapter a : adapters) {
      AdapterLayer layer = a.layer(module);
      out.add(layer == null ? Nd4j.zeros(w.dataType(), w.shape()) : layer.delta());
    }
    return out;
  }
}

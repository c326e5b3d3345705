package io.peftplatform.merging;

import io.peftplatform.adapters.Adapter;
import io.peftplatform.adapters.AdapterFiles;
import io.peftplatform.adapters.AdapterLayer;
import io.peftplatform.llama.ModelDirectory;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.config.ModelException;
import io.peftplatform.llama.nn.FrozenLinear;
import io.peftplatform.safetensors.Checkpoints;
import io.peftplatform.safetensors.SafetensorsException;
import io.peftplatform.safetensors.TensorInfo;
import io.peftplatform.safetensors.TensorSource;
import java.nio.DoubleBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Adapters of one base model, giving their task vectors one module at a time, with that module's base
 * weight read from the checkpoint when asked: a merge holds one module's weights at a time, never the
 * whole model.
 */
public final class AdapterSet implements AutoCloseable {
  private final LlamaConfig config;
  private final TensorSource base;
  private final List<Adapter> adapters;
  private final DataType dataType;

  private AdapterSet(LlamaConfig config, TensorSource base, List<Adapter> adapters, DataType dataType) {
    this.config = config;
    this.base = base;
    this.adapters = adapters;
    this.dataType = dataType;
  }

  /** Reads every adapter (each must fit the base: same modules' shapes) and opens the base checkpoint. */
  public static AdapterSet load(Path modelDir, List<Path> adapterDirs, DataType dataType) {
    if (adapterDirs.isEmpty()) {
      throw new IllegalArgumentException("at least one adapter is needed");
    }
    LlamaConfig config = ModelDirectory.config(modelDir);
    List<Adapter> adapters = new ArrayList<>();
    for (Path dir : adapterDirs) {
      adapters.add(AdapterFiles.read(dir, config, dataType));
    }
    try {
      return new AdapterSet(config, Checkpoints.open(modelDir), adapters, dataType);
    } catch (SafetensorsException e) {
      throw new ModelException(e.getMessage(), e);
    }
  }

  public LlamaConfig config() {
    return config;
  }

  /** The base checkpoint, open while this set is. */
  public TensorSource base() {
    return base;
  }

  public int size() {
    return adapters.size();
  }

  /** Every module at least one adapter changes, in path order. */
  public List<String> modules() {
    TreeSet<String> modules = new TreeSet<>();
    adapters.forEach(a -> modules.addAll(a.plans().keySet()));
    return List.copyOf(modules);
  }

  /** The module's base weight (out, in), read from the checkpoint. */
  public INDArray baseWeight(String module) {
    String name = module + ".weight";
    TensorInfo info = base.find(name).orElseThrow(() -> new IllegalArgumentException(
        "no linear module " + module + " in " + base.location()));
    long[] shape = info.shape();
    if (dataType == DataType.DOUBLE) {
      double[] values = new double[(int) info.elementCount()];
      base.readDoubles(name, DoubleBuffer.wrap(values));
      return Nd4j.create(values, shape, 'c');
    }
    return Nd4j.create(base.readFloats(name), shape, 'c');
  }

  /** τᵢ (out, in) of the module for each adapter in order; zeros for an adapter that leaves it alone. */
  public List<INDArray> taskVectors(String module) {
    return taskVectors(module, baseWeight(module));
  }

  /** As {@link #taskVectors(String)}, over a base weight already read. */
  public List<INDArray> taskVectors(String module, INDArray weight) {
    FrozenLinear linear = new FrozenLinear(weight, null);
    List<INDArray> out = new ArrayList<>();
    for (Adapter a : adapters) {
      AdapterLayer layer = a.layerOn(module, linear);
      out.add(layer == null ? Nd4j.zeros(weight.dataType(), weight.shape()) : layer.delta());
    }
    return out;
  }

  @Override
  public void close() {
    base.close();
  }
}

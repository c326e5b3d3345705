package io.peftplatform.adapters;

import io.peftplatform.llama.LlamaModel;
import io.peftplatform.llama.LlamaWeights;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.config.WeightNames;
import io.peftplatform.llama.nn.Arena;
import io.peftplatform.llama.nn.FrozenLinear;
import io.peftplatform.llama.nn.LinearLayer;
import io.peftplatform.training.spec.AdapterMethod;
import io.peftplatform.training.spec.AdapterSpec;
import io.peftplatform.training.spec.TargetModules;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * An adapter for one model: its spec, one {@link ModulePlan} per adapted module, every trainable tensor
 * in a {@link ParameterStore}, and — once attached — the adapter layers inside a {@link LlamaModel}.
 */
public final class Adapter {
  private final AdapterSpec spec;
  private final LlamaConfig config;
  private final Map<String, ModulePlan> plans;
  private final ParameterStore store;
  private final Dropout.Mode mode = new Dropout.Mode();
  private final Map<String, AdapterLayer> layers = new LinkedHashMap<>();
  private Arena arena;
  private LlamaModel model;

  private Adapter(AdapterSpec spec, LlamaConfig config, Map<String, ModulePlan> plans, DataType dataType) {
    this.spec = spec;
    this.config = config;
    this.plans = Collections.unmodifiableMap(plans);
    Map<String, long[]> shapes = new LinkedHashMap<>();
    for (ModulePlan p : plans.values()) {
      shapes.putAll(p.tensors(spec.method(), spec.nolaBasesA(), spec.nolaBasesB()));
    }
    this.store = new ParameterStore(shapes, dataType);
  }

  /** Plans every targeted module of the model as the spec says. */
  public static Map<String, ModulePlan> plan(AdapterSpec spec, LlamaConfig config) {
    Map<String, ModulePlan> plans = new LinkedHashMap<>();
    for (String module : TargetModules.select(spec.targetModules(), config.numLayers())) {
      int[] io = dimensions(config, module);
      Kronecker.Shape kron = spec.method() == AdapterMethod.KRONECKER
          ? Kronecker.Shape.of(io[0], io[1], spec.rank(), spec.kronFactor(), spec.kronDecomposeBoth())
          : null;
      plans.put(module, new ModulePlan(module, io[0], io[1], spec.rank(), spec.scaling(), kron));
    }
    return plans;
  }

  /** {in, out} of a module path. */
  static int[] dimensions(LlamaConfig c, String module) {
    String name = module.substring(module.lastIndexOf('.') + 1);
    return switch (name) {
      case "q_proj" -> new int[] {c.hiddenSize(), c.qDim()};
      case "k_proj", "v_proj" -> new int[] {c.hiddenSize(), c.kvDim()};
      case "o_proj" -> new int[] {c.qDim(), c.hiddenSize()};
      case "gate_proj", "up_proj" -> new int[] {c.hiddenSize(), c.intermediateSize()};
      case "down_proj" -> new int[] {c.intermediateSize(), c.hiddenSize()};
      default -> throw new IllegalArgumentException("not a linear module: " + module);
    };
  }

  /** A new adapter, initialised so the adapted model starts equal to the base model. */
  public static Adapter create(AdapterSpec spec, LlamaConfig config, DataType dataType) {
    Adapter a = new Adapter(spec, config, plan(spec, config), dataType);
    a.initialise();
    return a;
  }

  /**
   * This adapter for inference only: NOLA as the LoRA it exports to (A and B combined once from the
   * coefficients and the basis seed: the same ΔW, without the k + l random bases per module held in memory —
   * 64 + 64 of them outweigh the LoRA factors 64 times); any other method as it is. Call before attaching.
   */
  public Adapter forInference() {
    if (spec.method() != AdapterMethod.NOLA) {
      return this;
    }
    AdapterSpec lora = new AdapterSpec(AdapterMethod.LORA, spec.rank(), spec.alpha(), 0.0, spec.targetModules(), false,
        spec.nolaBasesA(), spec.nolaBasesB(), spec.kronFactor(), spec.kronDecomposeBoth(), spec.seed());
    Adapter out = new Adapter(lora, config, new LinkedHashMap<>(plans), store.dataType());
    for (ModulePlan plan : plans.values()) {
      INDArray[] ab = NolaLinear.loraFactors(plan, store.value(plan.name("nola_alpha")), store.value(plan.name("nola_beta")), spec.seed());
      out.store.value(plan.name("lora_A")).assign(ab[0]);
      out.store.value(plan.name("lora_B")).assign(ab[1]);
    }
    out.markLoaded();
    return out;
  }

  /** An adapter with the given plans and zeroed tensors, for loading values into. */
  static Adapter empty(AdapterSpec spec, LlamaConfig config, Map<String, ModulePlan> plans, DataType dataType) {
    return new Adapter(spec, config, plans, dataType);
  }

  /**
   * PEFT's initialisation: LoRA/DoRA A and Kronecker W₂ (or its factors, and W₁'s B factor) from
   * kaiming-uniform(a=√5), i.e. U(−1/√fan_in, 1/√fan_in); LoRA B, Kronecker W₁ (or its A factor) and
   * NOLA's coefficients zero. DoRA's magnitude is set to ‖W‖ when the adapter is attached.
   */
  private void initialise() {
    SplittableRandom root = new SplittableRandom(spec.seed());
    for (String name : store.names()) {
      SplittableRandom rng = root.split();
      String tensor = name.substring(name.lastIndexOf('.') + 1);
      boolean kaiming = switch (tensor) {
        case "lora_A", "lokr_w2", "lokr_w2_a", "lokr_w2_b", "lokr_w1_b" -> true;
        default -> false;
      };
      if (!kaiming) {
        continue;
      }
      INDArray v = store.value(name);
      long fanIn = v.size(1);
      double bound = 1.0 / Math.sqrt(fanIn);
      double[] values = new double[(int) v.length()];
      for (int i = 0; i < values.length; i++) {
        values[i] = (2 * rng.nextDouble() - 1) * bound;
      }
      v.assign(org.nd4j.linalg.factory.Nd4j.createFromArray(values).castTo(v.dataType()).reshape(v.shape()));
    }
  }

  /**
   * Builds the model with this adapter's layers in place of the targeted projections. An adapter
   * attaches to one model.
   */
  public LlamaModel attach(LlamaWeights weights) {
    if (model != null) {
      throw new IllegalStateException("adapter already attached");
    }
    arena = new Arena(weights.dataType());
    model = new LlamaModel(config, weights, this::layerFor);
    for (AdapterLayer l : layers.values()) {
      if (l instanceof DoraLinear d && isFresh()) {
        d.initMagnitude();
      }
    }
    return model;
  }

  private boolean fresh = true;

  /** Whether the tensors are still the initial ones (DoRA magnitudes are set from W on attach). */
  private boolean isFresh() {
    return fresh;
  }

  /** Marks the tensors as loaded from a file, so attaching keeps them. */
  void markLoaded() {
    fresh = false;
  }

  private LinearLayer layerFor(int layer, String module, FrozenLinear base) {
    String path = WeightNames.linearModule(layer, module);
    ModulePlan plan = plans.get(path);
    if (plan == null) {
      return base;
    }
    AdapterLayer l = newLayer(plan, base);
    layers.put(path, l);
    return l;
  }

  /**
   * This adapter's layer for one module over the given base projection, outside any model: merges build
   * one module at a time from weights read on demand. Null when the adapter leaves the module alone.
   */
  public AdapterLayer layerOn(String module, FrozenLinear base) {
    ModulePlan plan = plans.get(module);
    if (plan == null) {
      return null;
    }
    if (arena == null) {
      arena = new Arena(store.dataType());
    }
    return newLayer(plan, base);
  }

  private AdapterLayer newLayer(ModulePlan plan, FrozenLinear base) {
    Dropout dropout = new Dropout(spec.dropout(), mode, plan.module());
    return switch (spec.method()) {
      case LORA -> new LoraLinear(plan, base, store, arena, dropout);
      case DORA -> new DoraLinear(plan, base, store, arena, dropout);
      case NOLA -> new NolaLinear(plan, base, store, arena, dropout, spec.seed());
      case KRONECKER -> new KroneckerLinear(plan, base, store, arena, dropout);
    };
  }

  public AdapterSpec spec() {
    return spec;
  }

  public LlamaConfig config() {
    return config;
  }

  public ParameterStore parameters() {
    return store;
  }

  public Map<String, ModulePlan> plans() {
    return plans;
  }

  public List<AdapterLayer> layers() {
    return new ArrayList<>(layers.values());
  }

  public AdapterLayer layer(String module) {
    return layers.get(module);
  }

  /** Switches dropout on for a micro-batch, with the seed its masks derive from. */
  public void training(long stepSeed) {
    mode.training(stepSeed);
  }

  public void inference() {
    mode.inference();
  }

  /**
   * Switches the adapter on or off: off, the attached model computes its base alone (forward only; no
   * adapter gradient), as DPO's reference policy. On by default.
   */
  public void enabled(boolean on) {
    mode.enabled(on);
  }

  /** Trainable parameters. */
  public long parameterCount() {
    return store.size();
  }

  /** Parameters LoRA of the given rank would train on the same modules, for comparison. */
  public long loraParameterCount(int rank) {
    return plans.values().stream().mapToLong(p -> (long) rank * (p.in() + p.out())).sum();
  }
}

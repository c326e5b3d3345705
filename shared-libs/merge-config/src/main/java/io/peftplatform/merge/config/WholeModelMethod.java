package io.peftplatform.merge.config;

import static io.peftplatform.merge.config.WholeModelMethod.Required.REQUIRED;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * mergekit's merge methods for whole checkpoints, each with the parameters it reads and their defaults
 * (mergekit's registry): global ones from the top-level or slice {@code parameters}, per-tensor ones from
 * each model's {@code parameters} first. A default of {@link Required#REQUIRED} must be given.
 */
public enum WholeModelMethod {
  LINEAR("linear", Kind.LINEAR, null, false, globals("normalize", true), tensors("weight", REQUIRED)),
  TASK_ARITHMETIC("task_arithmetic", Kind.TASK_ARITHMETIC, Sparsification.NONE, false, gtaGlobals(false, false), gtaTensors()),
  TIES("ties", Kind.TASK_ARITHMETIC, Sparsification.MAGNITUDE, true, gtaGlobals(true, false), gtaTensors()),
  DARE_TIES("dare_ties", Kind.TASK_ARITHMETIC, Sparsification.RANDOM, true, gtaGlobals(false, true), gtaTensors()),
  DARE_LINEAR("dare_linear", Kind.TASK_ARITHMETIC, Sparsification.RANDOM, false, gtaGlobals(false, true), gtaTensors()),
  BREADCRUMBS("breadcrumbs", Kind.TASK_ARITHMETIC, Sparsification.MAGNITUDE_OUTLIERS, false, gtaGlobals(false, false),
      gtaTensors("gamma", 0.01)),
  BREADCRUMBS_TIES("breadcrumbs_ties", Kind.TASK_ARITHMETIC, Sparsification.MAGNITUDE_OUTLIERS, true, gtaGlobals(false, false),
      gtaTensors("gamma", 0.01)),
  DELLA("della", Kind.TASK_ARITHMETIC, Sparsification.DELLA_MAGPRUNE, true, gtaGlobals(true, true), gtaTensors("epsilon", 0.15)),
  DELLA_LINEAR("della_linear", Kind.TASK_ARITHMETIC, Sparsification.DELLA_MAGPRUNE, false, gtaGlobals(false, true),
      gtaTensors("epsilon", 0.15)),
  SLERP("slerp", Kind.SLERP, null, false, globals("t", REQUIRED), tensors()),
  NUSLERP("nuslerp", Kind.NUSLERP, null, false, globals("nuslerp_row_wise", false, "nuslerp_flatten", true), tensors("weight", REQUIRED)),
  MODEL_STOCK("model_stock", Kind.MODEL_STOCK, null, false, globals("filter_wise", false), tensors()),
  PASSTHROUGH("passthrough", Kind.PASSTHROUGH, null, false, globals(), tensors("scale", null));

  /** Marks a parameter without a default. */
  public enum Required { REQUIRED }

  public enum Kind { LINEAR, TASK_ARITHMETIC, SLERP, NUSLERP, MODEL_STOCK, PASSTHROUGH }

  /** How a task-arithmetic method thins each task vector before mixing (mergekit's sparsify). */
  public enum Sparsification { NONE, MAGNITUDE, RANDOM, MAGNITUDE_OUTLIERS, DELLA_MAGPRUNE }

  private final String configName;
  private final Kind kind;
  private final Sparsification sparsification;
  private final boolean signConsensus;
  private final Map<String, Object> globalParameters;
  private final Map<String, Object> tensorParameters;

  WholeModelMethod(String configName, Kind kind, Sparsification sparsification, boolean signConsensus, Map<String, Object> globals,
      Map<String, Object> tensors) {
    this.configName = configName;
    this.kind = kind;
    this.sparsification = sparsification;
    this.signConsensus = signConsensus;
    this.globalParameters = globals;
    this.tensorParameters = tensors;
  }

  /** The name in {@code merge_method}. */
  public String configName() {
    return configName;
  }

  public Kind kind() {
    return kind;
  }

  public Sparsification sparsification() {
    return sparsification;
  }

  /** TIES' sign election (mergekit's "sum" consensus) before the mean. */
  public boolean signConsensus() {
    return signConsensus;
  }

  /** Whether the method works on task vectors and so needs {@code base_model}. */
  public boolean needsBase() {
    return kind == Kind.TASK_ARITHMETIC || kind == Kind.SLERP || kind == Kind.MODEL_STOCK;
  }

  public Map<String, Object> globalParameters() {
    return globalParameters;
  }

  public Map<String, Object> tensorParameters() {
    return tensorParameters;
  }

  public static WholeModelMethod byName(String name) {
    return Arrays.stream(values()).filter(m -> m.configName.equals(name)).findFirst()
        .orElseThrow(() -> new MergeConfigException("merge_method: unknown method '" + name + "'; one of "
            + Arrays.stream(values()).map(WholeModelMethod::configName).collect(Collectors.joining(", "))));
  }

  private static Map<String, Object> gtaGlobals(boolean normalize, boolean rescale) {
    return globals("int8_mask", false, "normalize", normalize, "rescale", rescale, "lambda", 1.0);
  }

  private static Map<String, Object> gtaTensors(Object... extra) {
    Map<String, Object> m = tensors("weight", REQUIRED, "density", 1.0);
    m.putAll(tensors(extra));
    return m;
  }

  private static Map<String, Object> globals(Object... pairs) {
    return tensors(pairs);
  }

  private static Map<String, Object> tensors(Object... pairs) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      m.put((String) pairs[i], pairs[i + 1]);
    }
    return m;
  }
}

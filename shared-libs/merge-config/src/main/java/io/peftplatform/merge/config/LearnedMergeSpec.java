package io.peftplatform.merge.config;

import java.util.List;
import java.util.Locale;

/**
 * A learned merge: coefficients on each expert's task vector, per linear module of every layer (or per
 * chunk of its output rows), learned on unlabeled calibration texts. The CLI, the API and the merging
 * worker read it so; its defaults are decided here once. Fields are named as the API names them, and
 * every refusal is a {@link MergeConfigException} that starts with the field.
 *
 * @param method what the coefficients are learned for
 * @param steps optimizer steps; each takes one batch of every expert's calibration texts
 *     (Expert Merging) or one batch of the shared calibration texts (AdaMerging)
 * @param learningRate Adam's learning rate on the raw coefficients
 * @param batchSize texts per batch
 * @param maxSeqLen texts are cut to this many tokens
 * @param chunks coefficients per module and expert: its output rows in this many contiguous blocks
 *     (with {@code importanceChunking}, the average over modules)
 * @param importanceChunking Expert Merging++: first one coefficient per module, then more chunks for
 *     the layers that matter most (see docs/merging.md)
 * @param initialCoefficient every coefficient's start, and what Expert Merging's regulariser pulls toward
 * @param temperature Expert Merging: the softmax temperature of the logit alignment
 * @param hiddenLayers Expert Merging: decoder layers whose output is aligned to the expert's (0-based);
 *     empty for the middle one
 * @param hiddenWeight Expert Merging: the hidden-state loss's weight (0 for logits alone)
 * @param regularization Expert Merging: the weight of the pull toward {@code initialCoefficient}
 * @param seed orders the calibration texts
 */
public record LearnedMergeSpec(
    Method method,
    int steps,
    double learningRate,
    int batchSize,
    int maxSeqLen,
    int chunks,
    boolean importanceChunking,
    double initialCoefficient,
    double temperature,
    List<Integer> hiddenLayers,
    double hiddenWeight,
    double regularization,
    long seed) {

  /** Bounds a tenant's request cannot pass: a worker's time and memory for one merge stay bounded. */
  public static final int MAX_STEPS = 10_000;
  public static final int MAX_BATCH_SIZE = 64;
  public static final int MAX_SEQ_LEN = 4096;
  public static final int MAX_CHUNKS = 64;

  /** The learned methods. */
  public enum Method {
    /**
     * Expert Merging (Zhang et al., 2025): coefficients σ(θ) ∈ (0, 1) trained so the merged model's logits
     * and chosen hidden states match each expert's on that expert's texts, pulled toward their start.
     */
    EXPERT_MERGING("expert_merging", 100, 0.05, 0.5),
    /** AdaMerging (Yang et al., ICLR 2024): coefficients clamped to [0, 1], minimising the prediction entropy. */
    ADA_MERGING("ada_merging", 100, 0.01, 0.3);

    private final String apiName;
    private final int defaultSteps;
    private final double defaultLearningRate;
    private final double defaultInitialCoefficient;

    Method(String apiName, int defaultSteps, double defaultLearningRate, double defaultInitialCoefficient) {
      this.apiName = apiName;
      this.defaultSteps = defaultSteps;
      this.defaultLearningRate = defaultLearningRate;
      this.defaultInitialCoefficient = defaultInitialCoefficient;
    }

    /** As the CLI and the API write it. */
    public String apiName() {
      return apiName;
    }

    /** Whether each expert brings its own calibration texts (and is aligned to), or one set serves all. */
    public boolean calibrationPerExpert() {
      return this == EXPERT_MERGING;
    }

    /** Whether {@code name} is a learned method's name ('-' or '_'). */
    public static boolean isLearned(String name) {
      return find(name) != null;
    }

    public static Method byName(String name) {
      Method m = find(name);
      if (m == null) {
        throw new MergeConfigException("method: unknown learned merge method '" + name + "'; expected expert_merging or ada_merging");
      }
      return m;
    }

    private static Method find(String name) {
      String key = name == null ? "" : name.trim().toLowerCase(Locale.ROOT).replace('-', '_');
      for (Method m : values()) {
        if (m.apiName.equals(key)) {
          return m;
        }
      }
      return null;
    }
  }

  public static final int DEFAULT_BATCH_SIZE = 4;
  public static final int DEFAULT_MAX_SEQ_LEN = 256;
  public static final double DEFAULT_TEMPERATURE = 1.0;
  public static final double DEFAULT_HIDDEN_WEIGHT = 0.1;
  public static final double DEFAULT_REGULARIZATION = 0.1;

  public LearnedMergeSpec {
    require(method != null, "method", "expert_merging or ada_merging is needed");
    require(steps >= 1 && steps <= MAX_STEPS, "steps", "must be in [1, " + MAX_STEPS + "], got " + steps);
    require(learningRate > 0 && learningRate <= 10, "learning_rate", "must be in (0, 10], got " + learningRate);
    require(batchSize >= 1 && batchSize <= MAX_BATCH_SIZE, "batch_size", "must be in [1, " + MAX_BATCH_SIZE + "], got " + batchSize);
    require(maxSeqLen >= 2 && maxSeqLen <= MAX_SEQ_LEN, "max_seq_len", "must be in [2, " + MAX_SEQ_LEN + "], got " + maxSeqLen);
    require(chunks >= 1 && chunks <= MAX_CHUNKS, "chunks", "must be in [1, " + MAX_CHUNKS + "], got " + chunks);
    require(!importanceChunking || method == Method.EXPERT_MERGING, "importance_chunking", "is Expert Merging++: only with expert_merging");
    require(!importanceChunking || steps >= 2, "steps", "importance chunking learns in two stages: at least 2 steps");
    // σ never reaches 0 or 1; a clamp does
    require(method == Method.EXPERT_MERGING ? initialCoefficient > 0 && initialCoefficient < 1 : initialCoefficient >= 0 && initialCoefficient <= 1,
        "initial_coefficient", method == Method.EXPERT_MERGING ? "must be in (0, 1) (a sigmoid's value), got " + initialCoefficient
            : "must be in [0, 1], got " + initialCoefficient);
    require(temperature > 0 && temperature <= 100, "temperature", "must be in (0, 100], got " + temperature);
    hiddenLayers = hiddenLayers == null ? List.of() : List.copyOf(hiddenLayers);
    require(hiddenLayers.size() <= 64, "hidden_layers", "at most 64 layers");
    for (int layer : hiddenLayers) {
      require(layer >= 0, "hidden_layers", "layer numbers start at 0, got " + layer);
    }
    require(hiddenWeight >= 0 && hiddenWeight <= 1e6, "hidden_weight", "must be in [0, 1e6], got " + hiddenWeight);
    require(regularization >= 0 && regularization <= 1e6, "regularization", "must be in [0, 1e6], got " + regularization);
  }

  /** The method's defaults: one chunk, no importance chunking, the middle layer's hidden states. */
  public static LearnedMergeSpec defaults(Method method) {
    return new LearnedMergeSpec(method, method.defaultSteps, method.defaultLearningRate, DEFAULT_BATCH_SIZE, DEFAULT_MAX_SEQ_LEN, 1,
        false, method.defaultInitialCoefficient, DEFAULT_TEMPERATURE, List.of(), DEFAULT_HIDDEN_WEIGHT, DEFAULT_REGULARIZATION, 0);
  }

  /**
   * The spec with the given settings in place of the defaults; null leaves a setting at its default.
   * One place turns optional inputs (CLI options, JSON members) into a spec.
   */
  public static LearnedMergeSpec of(Method method, Integer steps, Double learningRate, Integer batchSize, Integer maxSeqLen,
      Integer chunks, Boolean importanceChunking, Double initialCoefficient, Double temperature, List<Integer> hiddenLayers,
      Double hiddenWeight, Double regularization, Long seed) {
    LearnedMergeSpec d = defaults(method);
    return new LearnedMergeSpec(method, or(steps, d.steps), or(learningRate, d.learningRate), or(batchSize, d.batchSize),
        or(maxSeqLen, d.maxSeqLen), or(chunks, d.chunks), or(importanceChunking, d.importanceChunking),
        or(initialCoefficient, d.initialCoefficient), or(temperature, d.temperature), or(hiddenLayers, d.hiddenLayers),
        or(hiddenWeight, d.hiddenWeight), or(regularization, d.regularization), or(seed, d.seed));
  }

  private static <T> T or(T value, T fallback) {
    return value != null ? value : fallback;
  }

  /** The decoder layers whose outputs Expert Merging aligns, for a model of {@code layers} layers. */
  public List<Integer> alignedLayers(int layers) {
    if (method != Method.EXPERT_MERGING || hiddenWeight == 0) {
      return List.of();
    }
    if (hiddenLayers.isEmpty()) {
      return List.of(layers / 2);
    }
    for (int layer : hiddenLayers) {
      if (layer >= layers) {
        throw new MergeConfigException("hidden_layers: the model has layers 0 to " + (layers - 1) + ", got " + layer);
      }
    }
    return hiddenLayers.stream().distinct().sorted().toList();
  }

  private static void require(boolean ok, String field, String problem) {
    if (!ok) {
      throw new MergeConfigException(field + ": " + problem);
    }
  }
}

package io.peftplatform.merging.learned;

import io.peftplatform.llama.Examples;
import io.peftplatform.llama.LlamaModel;
import io.peftplatform.llama.LlamaWeights;
import io.peftplatform.llama.ModelDirectory;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.config.ModelException;
import io.peftplatform.llama.config.WeightNames;
import io.peftplatform.llama.nn.Arena;
import io.peftplatform.llama.nn.CrossEntropy;
import io.peftplatform.llama.nn.FrozenLinear;
import io.peftplatform.llama.nn.LinearLayer;
import io.peftplatform.merge.config.LearnedMergeSpec;
import io.peftplatform.merge.config.MergeConfigException;
import io.peftplatform.merging.Merger;
import io.peftplatform.safetensors.Checkpoints;
import io.peftplatform.safetensors.SafetensorsException;
import io.peftplatform.safetensors.TensorSource;
import io.peftplatform.text.TextException;
import io.peftplatform.text.Tokenizer;
import io.peftplatform.text.dataset.ExampleEncoder;
import io.peftplatform.text.dataset.JsonlReader;
import io.peftplatform.text.dataset.PaddedBatch;
import io.peftplatform.text.dataset.TokenizedExample;
import io.peftplatform.training.AdamW;
import io.peftplatform.training.CancellationToken;
import io.peftplatform.training.DataOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A learned merge (Expert Merging, Expert Merging++, AdaMerging) of experts of one base model: the merged
 * model W = W₀ + Σₑ cₑ·τₑ on every linear module (a coefficient per expert and chunk of the module's
 * output rows), its coefficients trained by Adam through the model's own forward and backward while
 * every weight stays frozen. docs/merging.md gives the objectives.
 *
 * <p>Expert Merging: L = (1/E) Σₑ [T²·CEₑ + β·MSEₑ] + γ·(1/n) Σ|c − c₀| — on a batch of expert e's
 * calibration texts, CEₑ is the mean over predicting positions of the cross-entropy between the
 * expert's and the merged model's softmax(z/T), and MSEₑ the mean over the aligned layers, positions and
 * dimensions of the squared difference of the layer outputs; c = σ(θ); n coefficients per expert.
 * AdaMerging: L = mean over predicting positions of the entropy of the merged model's prediction on the
 * shared calibration texts, c = clamp(θ, 0, 1).
 */
public final class LearnedMerge {
  /** An expert: an adapter directory or (whole) a model directory, with the texts it is aligned on (Expert Merging). */
  public record ExpertInput(String name, Path dir, boolean wholeModel, String calibrationName, Path calibration) {}

  /** One step: the loss minimised and its parts, each as it enters the total. */
  public record StepLoss(int step, int steps, double loss, Map<String, Double> parts) {}

  /** Receives a run's reports. */
  public interface Listener {
    void onStep(StepLoss step);

    /** Expert Merging++ has chosen each layer's chunks after its first stage. */
    default void onChunking(Map<Integer, Integer> chunksPerLayer) {}
  }

  /** What a run can resume from: the step reached, the chunking, the raw coefficients and Adam's state. */
  public record State(int step, int[] chunks, double[] raw, double[] firstMoment, double[] secondMoment, long adamSteps) {}

  private static final double ADAM_BETA1 = 0.9;
  private static final double ADAM_BETA2 = 0.999;
  private static final double ADAM_EPSILON = 1e-8;

  private final LearnedMergeSpec spec;
  private final LlamaConfig config;
  private final Path modelDir;
  private final List<ExpertInput> inputs;
  private final List<List<TokenizedExample>> calibration; // per expert (Expert Merging), or the one shared set
  private final List<TeacherOutputs> teachers; // per expert; empty for AdaMerging
  private final List<Integer> aligned;
  private final int padId;
  private final LlamaWeights weights; // the base's; for whole-model experts, its other tensors moved by c₀·τ
  private final Map<String, INDArray> otherTensors; // tensors beside the linear weights that the experts change
  private final List<String> modules = new ArrayList<>(); // merged modules, in forward order
  private final List<MergedLinear> layers = new ArrayList<>();
  private final LlamaModel model;
  private final Arena arena;
  private Coefficients coefficients;
  private AdamW adam;
  private int step;
  private final List<StepLoss> history = new ArrayList<>();
  private Map<Integer, Double> importance = Map.of();

  private LearnedMerge(LearnedMergeSpec spec, Path modelDir, LlamaConfig config, List<ExpertInput> inputs,
      List<List<TokenizedExample>> calibration, int padId, DataType dataType) {
    this.spec = spec;
    this.modelDir = modelDir;
    this.inputs = List.copyOf(inputs);
    this.config = config;
    this.aligned = spec.alignedLayers(config.numLayers());
    this.calibration = List.copyOf(calibration);
    this.padId = padId;
    this.weights = load(modelDir, config, dataType);
    this.arena = new Arena(dataType);
    List<Expert> experts = new ArrayList<>();
    for (ExpertInput e : inputs) {
      experts.add(e.wholeModel() ? Expert.model(e.name(), e.dir(), config, dataType) : Expert.adapter(e.name(), e.dir(), config, dataType));
    }
    this.teachers = new ArrayList<>();
    if (spec.method().calibrationPerExpert()) {
      // An adapter's logits come from the base's head, which a whole-model expert moves below: keep it apart then.
      boolean headMoves = experts.stream().anyMatch(x -> x.head() != null);
      INDArray baseHead = headMoves ? weights.lmHead.dup() : weights.lmHead;
      for (int e = 0; e < experts.size(); e++) {
        Expert expert = experts.get(e);
        INDArray head = expert.head() != null ? expert.head() : baseHead;
        teachers.add(TeacherOutputs.compute(expert.asModel(config, weights), head, calibration.get(e), padId, aligned, spec.batchSize()));
      }
    }
    // The coefficients' layout: one chunk per module in Expert Merging++'s first stage.
    List<List<INDArray>> taskVectors = new ArrayList<>();
    List<FrozenLinear> bases = new ArrayList<>();
    for (int layer = 0; layer < config.numLayers(); layer++) {
      for (String name : WeightNames.LINEAR_MODULES) {
        String module = WeightNames.linearModule(layer, name);
        FrozenLinear base = new FrozenLinear(weights.layers[layer].weight(name), weights.layers[layer].bias(name));
        List<INDArray> taus = new ArrayList<>();
        boolean any = false;
        for (Expert expert : experts) {
          INDArray tau = expert.taskVector(module, base);
          if (tau != null && tau.amaxNumber().doubleValue() == 0) {
            tau = null; // a whole model that left the module as it was
          }
          taus.add(tau);
          any |= tau != null;
        }
        if (any) {
          modules.add(module);
          taskVectors.add(taus);
          bases.add(base);
        }
      }
    }
    if (modules.isEmpty()) {
      throw new MergeConfigException("experts: none of them changes a linear module of the base model; nothing to learn");
    }
    int[] chunks = new int[modules.size()];
    for (int m = 0; m < chunks.length; m++) {
      chunks[m] = spec.importanceChunking() ? 1 : Math.min(spec.chunks(), (int) bases.get(m).outFeatures());
    }
    this.coefficients = new Coefficients(activation(spec), experts.size(), chunks, spec.initialCoefficient());
    Map<String, MergedLinear> byModule = new LinkedHashMap<>();
    for (int m = 0; m < modules.size(); m++) {
      MergedLinear l = new MergedLinear(m, bases.get(m), taskVectors.get(m), coefficients, arena);
      layers.add(l);
      byModule.put(modules.get(m), l);
    }
    this.otherTensors = moveOtherTensors(experts);
    experts.forEach(Expert::release);
    this.model = new LlamaModel(config, weights, (layer, name, base) -> {
      LinearLayer l = byModule.get(WeightNames.linearModule(layer, name));
      return l != null ? l : base;
    });
    this.adam = newAdam();
  }

  /**
   * Reads the model, the experts and their calibration texts, and computes what the experts say on
   * their texts (Expert Merging): ready to {@link #run}.
   *
   * @param sharedCalibration AdaMerging's texts (one or more files, read as one set); ignored by Expert
   *     Merging, whose texts come with each expert
   * @param dataType FLOAT, or DOUBLE for checks
   */
  public static LearnedMerge prepare(LearnedMergeSpec spec, Path modelDir, List<ExpertInput> experts, List<Path> sharedCalibration,
      DataType dataType) {
    if (experts.isEmpty()) {
      throw new MergeConfigException("experts: at least one expert is needed");
    }
    if (!spec.method().calibrationPerExpert() && sharedCalibration.isEmpty()) {
      throw new MergeConfigException("calibration: " + spec.method().apiName() + " needs calibration texts");
    }
    LlamaConfig config = ModelDirectory.config(modelDir);
    List<List<TokenizedExample>> sets = new ArrayList<>();
    int padId;
    try (Tokenizer tokenizer = ModelDirectory.tokenizer(modelDir)) {
      ExampleEncoder encoder = Examples.encoder(tokenizer, config, spec.maxSeqLen(), true);
      padId = Examples.padTokenId(tokenizer, config);
      if (spec.method().calibrationPerExpert()) {
        for (ExpertInput e : experts) {
          if (e.calibration() == null) {
            throw new MergeConfigException("calibration: " + spec.method().apiName() + " needs one calibration file per expert; "
                + e.name() + " has none");
          }
          sets.add(texts(e.calibrationName(), e.calibration(), encoder));
        }
      } else {
        List<TokenizedExample> shared = new ArrayList<>(); // several files are one set of texts
        for (Path p : sharedCalibration) {
          shared.addAll(texts(p.toString(), p, encoder));
        }
        sets.add(shared);
      }
    }
    return new LearnedMerge(spec, modelDir, config, experts, sets, padId, dataType);
  }

  /**
   * {@link #prepare} with the calibration texts already as tokens (each scored throughout): one set per
   * expert for Expert Merging, the shared sets for AdaMerging.
   */
  public static LearnedMerge prepareTokenized(LearnedMergeSpec spec, Path modelDir, List<ExpertInput> experts,
      List<List<TokenizedExample>> calibration, int padId, DataType dataType) {
    if (spec.method().calibrationPerExpert() && calibration.size() != experts.size()) {
      throw new IllegalArgumentException(calibration.size() + " calibration sets for " + experts.size() + " experts");
    }
    return new LearnedMerge(spec, modelDir, ModelDirectory.config(modelDir), experts, calibration, padId, dataType);
  }

  private static Coefficients.Activation activation(LearnedMergeSpec spec) {
    return spec.method() == LearnedMergeSpec.Method.EXPERT_MERGING ? Coefficients.Activation.SIGMOID : Coefficients.Activation.CLAMP;
  }

  private static LlamaWeights load(Path modelDir, LlamaConfig config, DataType dataType) {
    try (TensorSource tensors = Checkpoints.open(modelDir)) {
      return LlamaWeights.load(config, tensors, dataType);
    } catch (SafetensorsException e) {
      throw new ModelException(e.getMessage(), e);
    }
  }

  /** Calibration texts: any supervised form, every token scored (they have no labels to respect). */
  private static List<TokenizedExample> texts(String name, Path file, ExampleEncoder encoder) {
    List<JsonlReader.Line> lines;
    try {
      lines = JsonlReader.readLines(file);
    } catch (TextException e) {
      throw new MergeConfigException("calibration: " + e.getMessage());
    }
    if (lines.isEmpty()) {
      throw new MergeConfigException("calibration: " + name + " holds no texts");
    }
    List<TokenizedExample> out = new ArrayList<>();
    for (JsonlReader.Line line : lines) {
      if (line.record().isPreference()) {
        throw new MergeConfigException("calibration: " + name + " holds preference pairs; give text, prompt/completion or messages records");
      }
      try {
        TokenizedExample e = encoder.encode(line.record());
        if (e.length() >= 2) {
          out.add(e);
        }
      } catch (TextException | ModelException e) {
        throw new MergeConfigException("calibration: " + name + " line " + line.number() + ": " + e.getMessage());
      }
    }
    if (out.isEmpty()) {
      throw new MergeConfigException("calibration: " + name + " has no text of two tokens or more");
    }
    return out;
  }

  /**
   * Whole-model experts also change embeddings, norms, the head and biases, which take no learned
   * coefficient: each moves by Σₑ c₀·τₑ (task arithmetic at the initial coefficient), in the weights the
   * merged model computes with and writes.
   */
  private Map<String, INDArray> moveOtherTensors(List<Expert> experts) {
    Map<String, INDArray> base = weights.byName(config);
    Map<String, INDArray> moved = new LinkedHashMap<>();
    Map<String, INDArray> original = new LinkedHashMap<>();
    for (Expert expert : experts) {
      for (Map.Entry<String, INDArray> t : expert.otherTensors().entrySet()) {
        INDArray target = base.get(t.getKey());
        original.computeIfAbsent(t.getKey(), k -> target.dup());
        INDArray tau = t.getValue().sub(original.get(t.getKey()));
        if (tau.amaxNumber().doubleValue() != 0) {
          target.addi(tau.muli(spec.initialCoefficient()));
          moved.put(t.getKey(), target);
        }
      }
    }
    return moved;
  }

  private AdamW newAdam() {
    return new AdamW(coefficients.size(), DataType.DOUBLE, ADAM_BETA1, ADAM_BETA2, ADAM_EPSILON, 0);
  }

  public LlamaConfig config() {
    return config;
  }

  /** The merged modules, in forward order. */
  public List<String> modules() {
    return List.copyOf(modules);
  }

  /** Calibration texts: per expert, or the shared set. */
  public List<Integer> calibrationSizes() {
    return calibration.stream().map(List::size).toList();
  }

  /** Every coefficient. */
  public int coefficientCount() {
    return coefficients.size();
  }

  /** The coefficients of a module: [expert][chunk]. */
  public double[][] coefficients(String module) {
    return coefficients.values(modules.indexOf(module));
  }

  /** Sets every raw value θ (for checks): the coefficients become act(θ) and the merged weights follow. */
  public void setRaw(double[] raw) {
    if (raw.length != coefficients.size()) {
      throw new IllegalArgumentException(raw.length + " raw values for " + coefficients.size() + " coefficients");
    }
    System.arraycopy(raw, 0, coefficients.raw(), 0, raw.length);
    layers.forEach(MergedLinear::refresh);
  }

  /** The raw values θ, index by index as {@link #rawIndex} lays them out. */
  public double[] raw() {
    return coefficients.raw().clone();
  }

  /** ∂L/∂θ of the last {@link #lossAndGradient}. */
  public double[] gradient() {
    return coefficients.grad().clone();
  }

  /** Where the raw value of (module, expert, chunk) is. */
  public int rawIndex(String module, int expert, int chunk) {
    return coefficients.index(modules.indexOf(module), expert, chunk);
  }

  /** Chunks of each merged module. */
  public int chunks(String module) {
    return coefficients.chunks(modules.indexOf(module));
  }

  /** Sets the chunks of every merged module (capped at its rows), every coefficient at the initial value: for checks. */
  public void chunking(Map<String, Integer> chunks) {
    int[] k = new int[modules.size()];
    for (int m = 0; m < k.length; m++) {
      k[m] = Math.min(chunks.getOrDefault(modules.get(m), 1), (int) layers.get(m).weight().size(0));
    }
    use(new Coefficients(coefficients.activation(), coefficients.experts(), k, spec.initialCoefficient()));
  }

  private void use(Coefficients c) {
    coefficients = c;
    layers.forEach(l -> l.use(c));
    adam = newAdam();
  }

  /**
   * The texts of step {@code step}'s batch from calibration set {@code set}: the sets' shuffles one epoch
   * after another ({@link DataOrder}), so a pure function of the seed, the set and the step.
   */
  int[] batchTexts(int set, int step) {
    int n = calibration.get(set).size();
    int b = Math.min(spec.batchSize(), n);
    long first = (long) step * b;
    int[] out = new int[b];
    int[] order = null;
    long epoch = -1;
    for (int i = 0; i < b; i++) {
      long at = first + i;
      if (at / n != epoch) {
        epoch = at / n;
        order = DataOrder.permutation(n, spec.seed() * 31 + set, (int) epoch);
      }
      out[i] = order[(int) (at % n)];
    }
    return out;
  }

  /** The loss of the batches of step {@code step} and its gradient ∂L/∂θ (see {@link #gradient}). */
  public StepLoss lossAndGradient(int step) {
    List<int[]> texts = new ArrayList<>();
    for (int set = 0; set < calibration.size(); set++) {
      texts.add(batchTexts(set, step));
    }
    return lossAndGradient(texts, step);
  }

  /**
   * The loss on the given texts — for Expert Merging one batch per expert (indices into its calibration
   * texts), for AdaMerging one per shared set — and its gradient ∂L/∂θ.
   */
  public StepLoss lossAndGradient(List<int[]> texts, int step) {
    coefficients.zeroGrad();
    Map<String, Double> parts = new LinkedHashMap<>();
    double total = 0;
    int sets = texts.size();
    for (int set = 0; set < sets; set++) {
      int[] chosen = texts.get(set);
      List<TokenizedExample> examples = new ArrayList<>();
      for (int i : chosen) {
        examples.add(calibration.get(set).get(i));
      }
      PaddedBatch batch = PaddedBatch.of(examples, padId);
      int positions = batch.predictedTokens();
      double scale = 1.0 / (sets * (double) positions);
      if (spec.method() == LearnedMergeSpec.Method.EXPERT_MERGING) {
        TeacherOutputs teacher = teachers.get(set);
        long n = (long) batch.batchSize() * batch.seqLen();
        INDArray teacherNormed = teacher.normed(chosen, batch.seqLen(), arena.get("teacher.normed", n, config.hiddenSize()));
        OutputLosses.HiddenStates hidden = new OutputLosses.HiddenStates(aligned,
            layer -> teacher.layer(layer, chosen, batch.seqLen(), arena.get("teacher.layer", n, config.hiddenSize())), batch.targets(),
            spec.hiddenWeight() * scale / (aligned.isEmpty() ? 1 : aligned.size() * (double) config.hiddenSize()), arena);
        CrossEntropy.Sum logits = model.forwardBackward(batch, OutputLosses.softCrossEntropy(batch.targets(), weights.lmHead, teacherNormed,
            teacher.head(), spec.temperature(), scale, arena), aligned.isEmpty() ? null : hidden, arena);
        parts.merge("logits", logits.loss() * scale, Double::sum);
        parts.merge("hidden", hidden.value(), Double::sum);
        total += logits.loss() * scale + hidden.value();
      } else {
        CrossEntropy.Sum entropy = model.forwardBackward(batch, OutputLosses.entropy(batch.targets(), weights.lmHead, scale, arena), null,
            arena);
        parts.merge("entropy", entropy.loss() * scale, Double::sum);
        total += entropy.loss() * scale;
      }
    }
    if (spec.method() == LearnedMergeSpec.Method.EXPERT_MERGING) {
      double weight = spec.regularization() / coefficients.perExpert();
      double pull = weight * coefficients.addAbsolutePull(spec.initialCoefficient(), weight);
      parts.put("pull", pull);
      total += pull;
    }
    return new StepLoss(step, spec.steps(), total, parts);
  }

  /**
   * Learns the coefficients: {@code spec.steps()} Adam steps (from {@code resume} when given), reporting
   * each; Expert Merging++ re-chunks at half-way. Stops early, keeping its state, when cancelled.
   * Returns the state reached.
   */
  public State run(Listener listener, CancellationToken cancellation, State resume) {
    int stage1 = spec.importanceChunking() ? spec.steps() / 2 : 0;
    if (resume != null) {
      restore(resume);
    }
    while (step < spec.steps()) {
      if (cancellation != null && cancellation.isCancelled()) {
        break;
      }
      if (spec.importanceChunking() && step == stage1) { // a state saved at stage1 still has the first stage's chunks
        rechunkByImportance(listener);
      }
      StepLoss loss = lossAndGradient(step);
      double[] raw = coefficients.raw();
      INDArray params = Nd4j.createFromArray(raw);
      adam.step(params, Nd4j.createFromArray(coefficients.grad()), spec.learningRate());
      System.arraycopy(params.toDoubleVector(), 0, raw, 0, raw.length);
      layers.forEach(MergedLinear::refresh);
      history.add(loss);
      step++;
      if (listener != null) {
        listener.onStep(loss);
      }
    }
    return state();
  }

  /** Where the run stands, to resume from. */
  public State state() {
    return new State(step, coefficients.chunks(), coefficients.raw().clone(), adam.firstMoment().toDoubleVector(),
        adam.secondMoment().toDoubleVector(), adam.steps());
  }

  /** Whether a saved state is one of this merge: its modules, chunks, coefficients and a step within the run. */
  public boolean canResume(State s) {
    if (s == null || s.chunks() == null || s.chunks().length != modules.size() || s.raw() == null || s.step() < 0 || s.step() > spec.steps()) {
      return false;
    }
    long expected = 0;
    for (int m = 0; m < modules.size(); m++) {
      if (s.chunks()[m] < 1 || s.chunks()[m] > layers.get(m).weight().size(0)) {
        return false;
      }
      expected += (long) coefficients.experts() * s.chunks()[m];
    }
    return s.raw().length == expected && s.firstMoment() != null && s.firstMoment().length == expected && s.secondMoment() != null
        && s.secondMoment().length == expected;
  }

  private void restore(State s) {
    if (!canResume(s)) {
      throw new IllegalArgumentException("the saved state is not one of this merge");
    }
    if (!Arrays.equals(s.chunks(), coefficients.chunks())) {
      use(new Coefficients(coefficients.activation(), coefficients.experts(), s.chunks(), spec.initialCoefficient()));
    }
    setRaw(s.raw());
    adam.restore(Nd4j.createFromArray(s.firstMoment()), Nd4j.createFromArray(s.secondMoment()), s.adamSteps());
    step = s.step();
  }

  /**
   * Expert Merging++: each layer's importance Iℓ = (1/E) Σₑ Σₘ cₑ,ₘ · ‖τₑ,ₘ‖_F / √Pℓ over the layer's
   * merged modules (Pℓ their parameters), normalised to mean 1 over layers; every module of layer ℓ then
   * gets round(K · Iℓ / mean I) chunks (at least 1, at most 4K and its rows), K = {@code chunks}, each
   * chunk starting from its module's learned value.
   */
  private void rechunkByImportance(Listener listener) {
    Map<Integer, Double> byLayer = new LinkedHashMap<>();
    Map<Integer, Long> params = new LinkedHashMap<>();
    for (int m = 0; m < modules.size(); m++) {
      int layer = layerOf(modules.get(m));
      MergedLinear l = layers.get(m);
      params.merge(layer, l.weight().length(), Long::sum);
      double sum = 0;
      for (int e = 0; e < coefficients.experts(); e++) {
        INDArray tau = l.taskVectors().get(e);
        if (tau != null) {
          sum += coefficients.value(m, e, 0) * tau.norm2Number().doubleValue();
        }
      }
      byLayer.merge(layer, sum / coefficients.experts(), Double::sum);
    }
    byLayer.replaceAll((layer, v) -> v / Math.sqrt(params.get(layer)));
    double mean = byLayer.values().stream().mapToDouble(Double::doubleValue).average().orElse(1);
    Map<Integer, Double> normalised = new LinkedHashMap<>();
    byLayer.forEach((layer, v) -> normalised.put(layer, mean > 0 ? v / mean : 1));
    this.importance = normalised;
    int[] k = new int[modules.size()];
    Map<Integer, Integer> perLayer = new LinkedHashMap<>();
    for (int m = 0; m < k.length; m++) {
      int layer = layerOf(modules.get(m));
      int wanted = (int) Math.max(1, Math.min(4L * spec.chunks(), Math.round(spec.chunks() * normalised.get(layer))));
      k[m] = Math.min(wanted, (int) layers.get(m).weight().size(0));
      perLayer.put(layer, wanted);
    }
    Coefficients next = Coefficients.rechunked(coefficients, k);
    use(next);
    if (listener != null) {
      listener.onChunking(perLayer);
    }
  }

  private static int layerOf(String module) {
    return Integer.parseInt(module.split("\\.")[2]);
  }

  /** Each layer's normalised importance (Expert Merging++), once chosen; empty otherwise. */
  public Map<Integer, Double> importance() {
    return importance;
  }

  public List<StepLoss> history() {
    return List.copyOf(history);
  }

  public LearnedMergeSpec spec() {
    return spec;
  }

  /** The merged model: the base checkpoint with each merged module's W₀ + Σ c·τ (and whole models' other tensors moved). */
  public Merger.Result writeModel(Path output) {
    Map<String, Supplier<float[]>> replaced = new LinkedHashMap<>();
    for (int m = 0; m < modules.size(); m++) {
      INDArray w = layers.get(m).weight();
      replaced.put(modules.get(m) + ".weight", () -> floats(w));
    }
    otherTensors.forEach((name, values) -> replaced.put(name, () -> floats(values)));
    long parameters;
    try (TensorSource source = Checkpoints.open(modelDir)) {
      parameters = Merger.writeModel(modelDir, source, replaced, output);
    } catch (SafetensorsException e) {
      throw new ModelException(e.getMessage(), e);
    }
    LearnedMergeRecord.write(output, this, inputs, 0);
    return new Merger.Result(modules.size(), parameters);
  }

  /** One LoRA of rank {@code rank} whose B·A approximates each merged module's Σ c·τ (linear modules only). */
  public Merger.Result writeAdapter(Path output, int rank, String baseModelName) {
    if (!otherTensors.isEmpty()) {
      throw new MergeConfigException("rank: the experts also change " + otherTensors.keySet().iterator().next()
          + " and other tensors a LoRA cannot hold; write a model");
    }
    Merger.Result r = Merger.writeLora(config, modules, module -> layers.get(modules.indexOf(module)).delta(), rank, output, baseModelName);
    LearnedMergeRecord.write(output, this, inputs, rank);
    return r;
  }

  private static float[] floats(INDArray a) {
    try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
      return a.dataType() == DataType.FLOAT ? a.data().asFloat() : a.castTo(DataType.FLOAT).data().asFloat();
    }
  }
}

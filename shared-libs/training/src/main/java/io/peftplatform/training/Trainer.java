package io.peftplatform.training;

import io.peftplatform.adapters.Adapter;
import io.peftplatform.adapters.AdapterFiles;
import io.peftplatform.llama.LlamaModel;
import io.peftplatform.llama.nn.Arena;
import io.peftplatform.text.dataset.TokenizedExample;
import io.peftplatform.training.spec.DataOptions;
import io.peftplatform.training.spec.Objective;
import io.peftplatform.training.spec.RunSpec;
import io.peftplatform.training.spec.TrainingConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Trains an adapter: micro-batches in a seeded order, gradients accumulated over {@code gradAccum}
 * micro-batches and normalised by the step's scored tokens (or pairs: the {@link StepObjective} says),
 * global-norm clipping, AdamW with a warmup and decay schedule, validation with early stopping,
 * checkpoints, and cancellation between steps.
 *
 * <p>A run is a pure function of the seed, data, model and configuration: rerunning it gives the same
 * loss curve, and resuming from a checkpoint ends with the same adapter as not stopping.
 */
public final class Trainer {
  private final Adapter adapter;
  private final TrainingConfig config;
  private final StepObjective objective;
  private final Path output;
  private final TrainingCheckpoint.Run run;
  private ProgressListener listener = p -> {};
  private List<TrainerState.Entry> history = List.of();
  private CancellationToken cancellation = new CancellationToken();

  /**
   * @param adapter attached to the model the objective trains, made from {@code spec.adapter()}
   * @param objective without validation examples: no validation, no early stopping, the last adapter kept
   * @param baseModel recorded as base_model_name_or_path
   */
  public Trainer(Adapter adapter, RunSpec spec, StepObjective objective, Path output, String baseModel) {
    if (!adapter.spec().equals(spec.adapter())) {
      throw new IllegalArgumentException("the adapter (" + adapter.spec() + ") is not the run's (" + spec.adapter() + ")");
    }
    this.adapter = adapter;
    this.config = spec.training();
    this.objective = objective;
    this.output = output;
    this.run = new TrainingCheckpoint.Run(spec, baseModel);
  }

  /** Supervised training of one example per row: the plain case, for callers with their own data. */
  public static Trainer supervised(LlamaModel model, Adapter adapter, TrainingConfig config, List<TokenizedExample> train,
      List<TokenizedExample> validation, int padId, Path output, String baseModel) {
    RunSpec spec = new RunSpec(adapter.spec(), config, DataOptions.defaults(), Objective.supervised());
    return new Trainer(adapter, spec, new SupervisedObjective(model, train, validation, padId, 0, config.batchSize()), output, baseModel);
  }

  public Trainer listener(ProgressListener listener) {
    this.listener = listener;
    return this;
  }

  public Trainer cancellation(CancellationToken token) {
    this.cancellation = token;
    return this;
  }

  /** What was trained and how, as checkpoints and provenance record it. */
  public TrainingCheckpoint.Run describe() {
    return run;
  }

  /** The per-step history of the last {@link #run}. */
  public List<TrainerState.Entry> history() {
    return history;
  }

  public int totalSteps() {
    return config.totalSteps(objective.size());
  }

  /** Trains from the start. */
  public TrainingResult run() {
    return run(null);
  }

  /** Trains, continuing from a checkpoint of the same run when one is given. */
  public TrainingResult run(Path resumeFrom) {
    long started = System.nanoTime();
    int total = totalSteps();
    int examples = objective.size();
    int batchesPerEpoch = (examples + config.batchSize() - 1) / config.batchSize();
    int evalEvery = config.evalInterval(examples);
    int checkpointEvery = config.checkpointInterval(examples);
    AdamW optimizer = new AdamW(adapter.parameterCount(), adapter.parameters().dataType(),
        config.adamBeta1(), config.adamBeta2(), config.adamEpsilon(), config.weightDecay());
    INDArray best = null;
    int step = 0;
    int epoch = 0;
    int batchInEpoch = 0;
    double bestValidation = Double.NaN;
    int withoutImprovement = 0;
    List<TrainerState.Entry> history = new ArrayList<>();
    if (resumeFrom != null) {
      TrainingCheckpoint.Run saved = TrainingCheckpoint.readRun(resumeFrom);
      if (!saved.spec().equals(run.spec())) {
        throw new TrainingException(resumeFrom + ": checkpoint of a different run (" + saved.spec() + ")");
      }
      INDArray[] bestHolder = new INDArray[1];
      TrainerState state = TrainingCheckpoint.restore(resumeFrom, adapter.config(), adapter, optimizer, bestHolder);
      best = bestHolder[0];
      step = state.step();
      epoch = state.epoch();
      batchInEpoch = state.batchInEpoch();
      bestValidation = state.bestValidationLoss();
      withoutImprovement = state.validationsWithoutImprovement();
      history.addAll(state.history());
    }
    int[] order = DataOrder.permutation(examples, config.seed(), epoch);
    Arena arena = new Arena(adapter.parameters().dataType());
    long tokensSeen = 0;
    long loopStart = System.nanoTime();
    int firstStep = step;
    double lastTrainLoss = history.isEmpty() ? Double.NaN : history.get(history.size() - 1).trainLoss();
    double lastValidation = Double.NaN;
    String stopReason = "completed";
    int lastCheckpoint = step;
    try {
      while (step < total) {
        if (cancellation.isCancelled()) {
          stopReason = cancellation.isPaused() ? "paused" : "cancelled";
          if (cancellation.isPaused() && step > 0 && step != lastCheckpoint) {
            checkpoint(step, optimizer, best, new TrainerState(step, epoch, batchInEpoch, bestValidation, withoutImprovement,
                config.seed(), order, history));
          }
          break;
        }
        List<StepObjective.MicroBatch> micro = new ArrayList<>(config.gradAccum());
        for (int i = 0; i < config.gradAccum(); i++) {
          if (batchInEpoch == batchesPerEpoch) {
            epoch++;
            batchInEpoch = 0;
            order = DataOrder.permutation(examples, config.seed(), epoch);
          }
          int from = batchInEpoch++ * config.batchSize();
          micro.add(objective.batch(order, from, Math.min(examples, from + config.batchSize())));
        }
        long normaliser = micro.stream().mapToLong(StepObjective.MicroBatch::normaliser).sum();
        adapter.parameters().zeroGrads();
        StepObjective.Sums sums = StepObjective.Sums.empty();
        for (int i = 0; i < micro.size(); i++) {
          adapter.training(DataOrder.dropoutSeed(config.seed(), step, i));
          if (normaliser > 0) {
            sums = sums.plus(objective.forwardBackward(micro.get(i), 1.0 / normaliser, arena));
          }
          tokensSeen += micro.get(i).tokens();
        }
        double gradNorm = clip(adapter.parameters().grads());
        double lr = config.learningRate(step, total);
        optimizer.step(adapter.parameters().values(), adapter.parameters().grads(), lr);
        step++;
        Map<String, Double> metrics = new LinkedHashMap<>(sums.means());
        lastTrainLoss = metrics.containsKey("loss") ? metrics.remove("loss") : Double.NaN;
        double validationLoss = Double.NaN;
        boolean stopEarly = false;
        boolean validateNow = objective.hasValidation() && (step == total || (evalEvery > 0 && step % evalEvery == 0));
        if (validateNow) {
          Map<String, Double> validated = validate();
          validationLoss = validated.get("loss");
          validated.forEach((k, v) -> {
            if (!k.equals("loss")) {
              metrics.put("validation_" + k, v);
            }
          });
          lastValidation = validationLoss;
          listener.onValidation(step, validationLoss);
          if (Double.isNaN(bestValidation) || validationLoss < bestValidation) {
            bestValidation = validationLoss;
            withoutImprovement = 0;
            best = adapter.parameters().values().dup();
          } else {
            withoutImprovement++;
            stopEarly = config.earlyStoppingPatience() > 0 && withoutImprovement >= config.earlyStoppingPatience();
          }
        }
        history.add(new TrainerState.Entry(step, lastTrainLoss, validationLoss, lr, gradNorm, metrics));
        double elapsed = (System.nanoTime() - loopStart) / 1e9;
        double perStep = elapsed / (step - firstStep);
        listener.onStep(new TrainingProgress(step, total, epoch + (double) batchInEpoch / batchesPerEpoch, lastTrainLoss,
            validationLoss, lr, gradNorm, tokensSeen / elapsed, perStep * (total - step), metrics));
        if (checkpointEvery > 0 && (step % checkpointEvery == 0 || step == total)) {
          checkpoint(step, optimizer, best, new TrainerState(step, epoch, batchInEpoch, bestValidation, withoutImprovement,
              config.seed(), order, history));
          lastCheckpoint = step;
        }
        if (stopEarly) {
          stopReason = "early_stopping";
          break;
        }
      }
    } finally {
      adapter.inference();
      arena.release();
    }
    if (best != null) {
      adapter.parameters().values().assign(best);
    }
    AdapterFiles.write(adapter, output, run.baseModel());
    this.history = List.copyOf(history);
    return new TrainingResult(output, step, lastTrainLoss, lastValidation, bestValidation, stopReason,
        (System.nanoTime() - started) / 1e9, firstStep == 0 ? tokensSeen : -1);
  }

  /** Saves a checkpoint of the run at this step and tells the listener. */
  private void checkpoint(int step, AdamW optimizer, INDArray best, TrainerState state) {
    Path dir = TrainingCheckpoint.directoryFor(output, step);
    TrainingCheckpoint.save(dir, run, adapter, optimizer, best, state);
    listener.onCheckpoint(step, dir);
  }

  /** Scales gradients to the maximum global norm; returns the norm before clipping. */
  private double clip(INDArray grads) {
    double norm;
    try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
      norm = grads.norm2Number().doubleValue();
    }
    if (config.maxGradNorm() > 0 && norm > config.maxGradNorm()) {
      grads.muli(config.maxGradNorm() / (norm + 1e-6));
    }
    return norm;
  }

  private Map<String, Double> validate() {
    adapter.inference();
    return objective.validate();
  }
}

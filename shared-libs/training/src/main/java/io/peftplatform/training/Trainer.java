package io.peftplatform.training;

import io.peftplatform.adapters.Adapter;
import io.peftplatform.adapters.AdapterFiles;
import io.peftplatform.llama.Evaluator;
import io.peftplatform.llama.LlamaModel;
import io.peftplatform.llama.nn.Arena;
import io.peftplatform.llama.nn.CrossEntropy;
import io.peftplatform.text.dataset.PaddedBatch;
import io.peftplatform.text.dataset.TokenizedExample;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Trains an adapter: micro-batches in a seeded order, gradients accumulated over {@code gradAccum}
 * micro-batches and normalised by the step's scored tokens, global-norm clipping, AdamW with a warmup
 * and decay schedule, validation with early stopping, checkpoints, and cancellation between steps.
 *
 * <p>A run is a pure function of the seed, data, model and configuration: rerunning it gives the same
 * loss curve, and resuming from a checkpoint ends with the same adapter as not stopping.
 */
public final class Trainer {
  private final LlamaModel model;
  private final Adapter adapter;
  private final TrainingConfig config;
  private final List<TokenizedExample> train;
  private final List<TokenizedExample> validation;
  private final int padId;
  private final Path output;
  private final TrainingCheckpoint.Run run;
  private ProgressListener listener = p -> {};
  private List<TrainerState.Entry> history = List.of();
  private CancellationToken cancellation = new CancellationToken();

  /**
   * @param model the base model with {@code adapter} attached
   * @param validation may be empty: then no validation, no early stopping, and the last adapter is kept
   * @param baseModel recorded as base_model_name_or_path
   */
  public Trainer(LlamaModel model, Adapter adapter, TrainingConfig config, List<TokenizedExample> train,
      List<TokenizedExample> validation, int padId, Path output, String baseModel) {
    if (train.isEmpty()) {
      throw new TrainingException("no training examples");
    }
    this.model = model;
    this.adapter = adapter;
    this.config = config;
    this.train = List.copyOf(train);
    this.validation = List.copyOf(validation);
    this.padId = padId;
    this.output = output;
    this.run = new TrainingCheckpoint.Run(adapter.spec(), config, baseModel);
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
    return config.totalSteps(train.size());
  }

  /** Trains from the start. */
  public TrainingResult run() {
    return run(null);
  }

  /** Trains, continuing from a checkpoint of the same run when one is given. */
  public TrainingResult run(Path resumeFrom) {
    long started = System.nanoTime();
    int total = totalSteps();
    int batchesPerEpoch = (train.size() + config.batchSize() - 1) / config.batchSize();
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
      if (!saved.adapter().equals(run.adapter()) || !saved.training().equals(run.training())) {
        throw new TrainingException(resumeFrom + ": checkpoint of a different run (adapter " + saved.adapter()
            + ", training " + saved.training() + ")");
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
    int[] order = DataOrder.permutation(train.size(), config.seed(), epoch);
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
        List<PaddedBatch> micro = new ArrayList<>(config.gradAccum());
        for (int i = 0; i < config.gradAccum(); i++) {
          if (batchInEpoch == batchesPerEpoch) {
            epoch++;
            batchInEpoch = 0;
            order = DataOrder.permutation(train.size(), config.seed(), epoch);
          }
          micro.add(batch(order, batchInEpoch++));
        }
        long scored = micro.stream().mapToLong(PaddedBatch::predictedTokens).sum();
        adapter.parameters().zeroGrads();
        CrossEntropy.Sum loss = new CrossEntropy.Sum(0, 0);
        for (int i = 0; i < micro.size(); i++) {
          adapter.training(DataOrder.dropoutSeed(config.seed(), step, i));
          if (scored > 0) {
            loss = loss.plus(model.forwardBackward(micro.get(i), 1.0 / scored, arena));
          }
          tokensSeen += realTokens(micro.get(i));
        }
        double gradNorm = clip(adapter.parameters().grads());
        double lr = config.learningRate(step, total);
        optimizer.step(adapter.parameters().values(), adapter.parameters().grads(), lr);
        step++;
        lastTrainLoss = loss.mean();
        double validationLoss = Double.NaN;
        boolean stopEarly = false;
        boolean validateNow = !validation.isEmpty()
            && (step == total || (config.evalEvery() > 0 && step % config.evalEvery() == 0));
        if (validateNow) {
          validationLoss = validate();
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
        history.add(new TrainerState.Entry(step, lastTrainLoss, validationLoss, lr, gradNorm));
        double elapsed = (System.nanoTime() - loopStart) / 1e9;
        double perStep = elapsed / (step - firstStep);
        listener.onStep(new TrainingProgress(step, total, epoch + (double) batchInEpoch / batchesPerEpoch, lastTrainLoss,
            validationLoss, lr, gradNorm, tokensSeen / elapsed, perStep * (total - step)));
        if (config.checkpointEvery() > 0 && (step % config.checkpointEvery() == 0 || step == total)) {
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

  private PaddedBatch batch(int[] order, int index) {
    int from = index * config.batchSize();
    int to = Math.min(train.size(), from + config.batchSize());
    List<TokenizedExample> examples = new ArrayList<>(to - from);
    for (int i = from; i < to; i++) {
      examples.add(train.get(order[i]));
    }
    return PaddedBatch.of(examples, padId);
  }

  private static long realTokens(PaddedBatch b) {
    long n = 0;
    for (int m : b.attentionMask()) {
      n += m;
    }
    return n;
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

  private double validate() {
    adapter.inference();
    return Evaluator.evaluate(model, validation, config.batchSize(), padId).loss();
  }
}

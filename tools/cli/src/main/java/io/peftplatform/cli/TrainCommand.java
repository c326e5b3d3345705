package io.peftplatform.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftplatform.training.CancellationToken;
import io.peftplatform.training.RunInputException;
import io.peftplatform.training.TrainerState;
import io.peftplatform.training.TrainingCheckpoint;
import io.peftplatform.training.TrainingResult;
import io.peftplatform.training.TrainingRun;
import io.peftplatform.training.spec.AdapterMethod;
import io.peftplatform.training.spec.AdapterSpec;
import io.peftplatform.training.spec.DataOptions;
import io.peftplatform.training.spec.Objective;
import io.peftplatform.training.spec.RunSpec;
import io.peftplatform.training.spec.TargetModules;
import io.peftplatform.training.spec.TrainingConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "train",
    description = "Train a LoRA, DoRA, NOLA or Kronecker adapter on a JSONL file, supervised or by DPO on preference pairs."
        + " Progress goes to stderr; the last line of output is a JSON summary. Ctrl-C stops after the current step and"
        + " keeps the last checkpoint.")
final class TrainCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--model", required = true, paramLabel = "DIR", description = "Base model directory (Hugging Face layout).")
  Path model;

  @Option(names = "--data", required = true, paramLabel = "FILE", description = "Training JSONL.")
  Path data;

  @Option(names = "--validation", paramLabel = "FILE", description = "Validation JSONL: loss every --eval-every steps, early stopping, the best adapter kept.")
  Path validation;

  @Option(names = "--method", paramLabel = "M", description = "lora, dora, nola or kronecker (required unless --resume).")
  String method;

  @Option(names = "--output", required = true, paramLabel = "DIR", description = "Where the adapter, checkpoints and provenance go.")
  Path output;

  @Option(names = "--objective", defaultValue = "supervised", paramLabel = "O",
      description = "supervised (cross-entropy on the answers), or on preference pairs ({input, preferred_output,"
          + " non_preferred_output} or {prompt, chosen, rejected}): dpo (against the base model), simpo or orpo (no"
          + " reference model: one forward and backward a step) (default ${DEFAULT-VALUE}).")
  String objective;

  @Option(names = "--beta", paramLabel = "B",
      description = "DPO's beta (larger keeps the adapter closer to the base model; default " + Objective.DEFAULT_BETA + "),"
          + " SimPO's beta (the reward's scale; default " + Objective.DEFAULT_SIMPO_BETA + ") or ORPO's lambda (the odds"
          + " ratio's weight; default " + Objective.DEFAULT_ORPO_LAMBDA + ").")
  Double beta;

  @Option(names = "--gamma", paramLabel = "G",
      description = "SimPO's target reward margin (default " + Objective.DEFAULT_SIMPO_GAMMA + ").")
  Double gamma;

  @Option(names = "--packing", description = "Pack several examples into each row (they never attend to each other; the loss is"
      + " the unpacked one): less padding, faster on short examples.")
  boolean packing;

  @Option(names = "--rank", defaultValue = "" + AdapterSpec.DEFAULT_RANK, paramLabel = "R", description = "Adapter rank (default ${DEFAULT-VALUE}).")
  int rank;

  @Option(names = "--alpha", paramLabel = "A", description = "Scaling numerator: s = alpha/r (default 2 x rank).")
  Double alpha;

  @Option(names = "--rslora", description = "Scale by alpha/sqrt(r) (LoRA, DoRA).")
  boolean rslora;

  @Option(names = "--dropout", defaultValue = "0.0", paramLabel = "P", description = "Dropout on the adapter input (default ${DEFAULT-VALUE}).")
  double dropout;

  @Option(names = "--target-modules", defaultValue = TargetModules.ALL_LINEAR, paramLabel = "LIST",
      description = "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj or all-linear (default ${DEFAULT-VALUE}).")
  String targetModules;

  @Option(names = "--nola-bases", defaultValue = "" + AdapterSpec.DEFAULT_NOLA_BASES, paramLabel = "K", description = "NOLA: random bases for each of A and B (default ${DEFAULT-VALUE}).")
  int nolaBases;

  @Option(names = "--kron-factor", defaultValue = "-1", paramLabel = "F", description = "Kronecker: PEFT's decompose_factor; -1 picks factors near the square root (default).")
  int kronFactor;

  @Option(names = "--kron-decompose-both", description = "Kronecker: also store W1 as a rank-r product when small enough.")
  boolean kronDecomposeBoth;

  @Option(names = "--epochs", defaultValue = "" + TrainingConfig.DEFAULT_EPOCHS, paramLabel = "N", description = "Default ${DEFAULT-VALUE}; ignored with --max-steps.")
  int epochs;

  @Option(names = "--max-steps", defaultValue = "0", paramLabel = "N", description = "Optimizer steps; overrides --epochs.")
  int maxSteps;

  @Option(names = "--lr", defaultValue = "" + TrainingConfig.DEFAULT_LEARNING_RATE, paramLabel = "X", description = "Peak learning rate (default ${DEFAULT-VALUE}).")
  double lr;

  @Option(names = "--warmup-steps", defaultValue = "0", paramLabel = "N", description = "Default ${DEFAULT-VALUE}.")
  int warmupSteps;

  @Option(names = "--schedule", defaultValue = "linear", paramLabel = "S", description = "linear, cosine or constant (default ${DEFAULT-VALUE}).")
  String schedule;

  @Option(names = "--weight-decay", defaultValue = "0.0", paramLabel = "W", description = "AdamW weight decay (default ${DEFAULT-VALUE}).")
  double weightDecay;

  @Option(names = "--max-grad-norm", defaultValue = "" + TrainingConfig.DEFAULT_MAX_GRAD_NORM, paramLabel = "G", description = "Clip the global gradient norm; 0 to disable (default ${DEFAULT-VALUE}).")
  double maxGradNorm;

  @Option(names = "--batch-size", defaultValue = "" + TrainingConfig.DEFAULT_BATCH_SIZE, paramLabel = "N",
      description = "Examples (or DPO pairs) per micro-batch (default ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(names = "--grad-accum", defaultValue = "1", paramLabel = "N", description = "Micro-batches per optimizer step (default ${DEFAULT-VALUE}).")
  int gradAccum;

  @Option(names = "--seq-len", defaultValue = "" + DataOptions.DEFAULT_MAX_SEQ_LEN, paramLabel = "N",
      description = "Cut examples to N tokens; packed rows hold at most N (default ${DEFAULT-VALUE}).")
  int seqLen;

  @Option(names = "--train-on-inputs", description = "Also train on prompts and user turns.")
  boolean trainOnInputs;

  @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "Seeds initialisation, data order and dropout (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--checkpoint-every", defaultValue = "auto", paramLabel = "N",
      description = "Save a resumable checkpoint every N steps; 0 for none (default auto: ten in the run).")
  String checkpointEvery;

  @Option(names = "--eval-every", defaultValue = "auto", paramLabel = "N",
      description = "Validation every N steps; 0 for only at the end (default auto: once per epoch).")
  String evalEvery;

  @Option(names = "--early-stopping-patience", defaultValue = "0", paramLabel = "N", description = "Stop after N validations without improvement (default: never).")
  int patience;

  @Option(names = "--resume", paramLabel = "DIR", description = "Continue from a checkpoint directory (its adapter and training settings are used).")
  Path resume;

  @Option(names = "--activation-checkpointing", description = "Recompute each decoder block's forward in backward: the memory of"
      + " one block's activations instead of all, for about a third more time per step; the same numbers.")
  boolean activationCheckpointing;

  @Option(names = "--precision", defaultValue = "fp32", paramLabel = "fp32|bf16", description = "What the frozen projections"
      + " multiply in: fp32 (default) or bf16 — weights held in BF16, inputs and results rounded to BF16, fp32 accumulation"
      + " (PyTorch's CPU autocast); about 1.15x the speed on CPUs with AVX512-BF16; adapters and optimizer stay fp32.")
  String precision;

  @Option(names = "--force", description = "Write into a non-empty --output directory.")
  boolean force;

  /** Options that describe the run: with --resume they come from the checkpoint and must not be given. */
  private static final List<String> RUN_OPTIONS = List.of("--method", "--rank", "--alpha", "--rslora", "--dropout",
      "--target-modules", "--nola-bases", "--kron-factor", "--kron-decompose-both", "--epochs", "--max-steps", "--lr",
      "--warmup-steps", "--schedule", "--weight-decay", "--max-grad-norm", "--batch-size", "--grad-accum", "--seed",
      "--checkpoint-every", "--eval-every", "--early-stopping-patience", "--objective", "--beta", "--gamma", "--packing", "--seq-len",
      "--train-on-inputs", "--precision");

  /** The objective the options name; a setting another objective's is refused, not ignored. */
  private Objective objective() {
    Objective.Kind kind = Objective.Kind.parse(objective);
    if (beta != null && kind == Objective.Kind.SUPERVISED) {
      throw new IllegalArgumentException("--beta is for preference tuning (--objective dpo, simpo or orpo)");
    }
    if (gamma != null && kind != Objective.Kind.SIMPO) {
      throw new IllegalArgumentException("--gamma is SimPO's (--objective simpo)");
    }
    return Objective.of(kind, beta, gamma);
  }

  @Override
  public Integer call() throws Exception {
    RunSpec run;
    if (resume != null) {
      List<String> given = RUN_OPTIONS.stream().filter(o -> spec.commandLine().getParseResult().hasMatchedOption(o)).toList();
      if (!given.isEmpty()) {
        throw new IllegalArgumentException("--resume continues the checkpoint's run; do not give " + String.join(", ", given));
      }
      run = TrainingCheckpoint.readRun(resume).spec();
    } else {
      if (method == null) {
        throw new IllegalArgumentException("--method is required (lora, dora, nola or kronecker)");
      }
      requireEmpty(output);
      run = new RunSpec(
          new AdapterSpec(AdapterMethod.parse(method), rank, alpha == null ? 2.0 * rank : alpha, dropout,
              TargetModules.parse(targetModules), rslora, nolaBases, nolaBases, kronFactor, kronDecomposeBoth, seed),
          new TrainingConfig(epochs, maxSteps, lr, warmupSteps, TrainingConfig.Schedule.parse(schedule), batchSize, gradAccum,
              weightDecay, maxGradNorm, seed, interval("--checkpoint-every", checkpointEvery), interval("--eval-every", evalEvery),
              patience, 0.9, 0.999, 1e-8, TrainingConfig.Precision.parse(precision)),
          new DataOptions(seqLen, trainOnInputs, packing),
          objective());
    }
    TrainingRun training;
    try {
      training = TrainingRun.prepare(run, model, model.toString(), new TrainingRun.DataFile(data.toString(), data, data.toString()),
          validation == null ? null : new TrainingRun.DataFile(validation.toString(), validation, validation.toString()), output);
    } catch (RunInputException e) {
      throw new IllegalArgumentException(e.getMessage());
    }
    training.activationCheckpointing(activationCheckpointing);
    RunSpec s = training.spec();
    System.err.printf("training %s%s%s (%,d parameters, %s) on %d %s%s: %d steps%n", s.adapter().method().cliName(),
        s.objective().pairwise() ? " by " + s.objective().describe() : "",
        s.training().precision() == TrainingConfig.Precision.BF16 ? " with BF16 products" : "", training.adapter().parameterCount(),
        s.adapter().targetModules(), training.trainingExamples(), s.objective().pairwise() ? "pairs" : "examples",
        training.validationExamples() == 0 ? "" : " (+" + training.validationExamples() + " for validation)",
        training.trainer().totalSteps());

    CancellationToken cancel = new CancellationToken();
    CountDownLatch finished = new CountDownLatch(1);
    Thread hook = new Thread(() -> {
      cancel.cancel();
      System.err.println("\npeft: stopping after the current step...");
      try {
        finished.await(10, TimeUnit.MINUTES);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    Runtime.getRuntime().addShutdownHook(hook);
    TrainingResult result;
    try {
      result = training.run(new ProgressBar(System.err), cancel, resume, null);
    } finally {
      finished.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running: it returns once we have finished
      }
    }
    Map<String, Object> summary = new LinkedHashMap<>();
    summary.put("adapter", output.toString());
    summary.put("method", s.adapter().method().cliName());
    summary.put("objective", s.objective().kind().apiName());
    summary.put("parameters", training.adapter().parameterCount());
    summary.put("steps", result.steps());
    summary.put("train_loss", result.finalTrainLoss());
    summary.put("validation_loss", Double.isNaN(result.finalValidationLoss()) ? null : result.finalValidationLoss());
    summary.put("best_validation_loss", Double.isNaN(result.bestValidationLoss()) ? null : result.bestValidationLoss());
    List<TrainerState.Entry> history = training.trainer().history();
    if (!history.isEmpty()) {
      history.get(history.size() - 1).metrics().forEach(summary::put);
    }
    summary.put("stop_reason", result.stopReason());
    summary.put("seconds", Math.round(result.seconds() * 10) / 10.0);
    System.out.println(new ObjectMapper().writeValueAsString(summary));
    return result.stopReason().equals("cancelled") ? 130 : 0;
  }

  /** "auto", or a step count (0 for never). */
  private static int interval(String option, String value) {
    if (value.equalsIgnoreCase("auto")) {
      return TrainingConfig.AUTO;
    }
    try {
      int n = Integer.parseInt(value);
      if (n >= 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // refused below
    }
    throw new IllegalArgumentException(option + " must be auto, 0 or a number of steps, got '" + value + "'");
  }

  private void requireEmpty(Path dir) throws java.io.IOException {
    if (Files.isDirectory(dir) && !force) {
      try (Stream<Path> entries = Files.list(dir)) {
        if (entries.findAny().isPresent()) {
          throw new IllegalArgumentException(dir + " exists and is not empty (use --force, or --resume a checkpoint)");
        }
      }
    }
  }
}

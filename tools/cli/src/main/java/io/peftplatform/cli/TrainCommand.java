package io.peftplatform.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftplatform.adapters.AdaptedModel;
import io.peftplatform.adapters.Adapter;
import io.peftplatform.adapters.AdapterMethod;
import io.peftplatform.adapters.AdapterSpec;
import io.peftplatform.adapters.TargetModules;
import io.peftplatform.llama.Examples;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.LlamaModel;
import io.peftplatform.llama.ModelDirectory;
import io.peftplatform.text.Tokenizer;
import io.peftplatform.text.dataset.TokenizedExample;
import io.peftplatform.training.CancellationToken;
import io.peftplatform.training.Provenance;
import io.peftplatform.training.Trainer;
import io.peftplatform.training.TrainingCheckpoint;
import io.peftplatform.training.TrainingConfig;
import io.peftplatform.training.TrainingResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.nd4j.linalg.api.buffer.DataType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "train",
    description = "Train a LoRA, DoRA, NOLA or Kronecker adapter on a JSONL file. Progress goes to stderr; the last"
        + " line of output is a JSON summary. Ctrl-C stops after the current step and keeps the last checkpoint.")
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

  @Option(names = "--rank", defaultValue = "8", paramLabel = "R", description = "Adapter rank (default ${DEFAULT-VALUE}).")
  int rank;

  @Option(names = "--alpha", paramLabel = "A", description = "Scaling numerator: s = alpha/r (default 2 x rank).")
  Double alpha;

  @Option(names = "--rslora", description = "Scale by alpha/sqrt(r) (LoRA, DoRA).")
  boolean rslora;

  @Option(names = "--dropout", defaultValue = "0.0", paramLabel = "P", description = "Dropout on the adapter input (default ${DEFAULT-VALUE}).")
  double dropout;

  @Option(names = "--target-modules", defaultValue = "all-linear", paramLabel = "LIST",
      description = "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj or all-linear (default ${DEFAULT-VALUE}).")
  String targetModules;

  @Option(names = "--nola-bases", defaultValue = "64", paramLabel = "K", description = "NOLA: random bases for each of A and B (default ${DEFAULT-VALUE}).")
  int nolaBases;

  @Option(names = "--kron-factor", defaultValue = "-1", paramLabel = "F", description = "Kronecker: PEFT's decompose_factor; -1 picks factors near the square root (default).")
  int kronFactor;

  @Option(names = "--kron-decompose-both", description = "Kronecker: also store W1 as a rank-r product when small enough.")
  boolean kronDecomposeBoth;

  @Option(names = "--epochs", defaultValue = "3", paramLabel = "N", description = "Default ${DEFAULT-VALUE}; ignored with --max-steps.")
  int epochs;

  @Option(names = "--max-steps", defaultValue = "0", paramLabel = "N", description = "Optimizer steps; overrides --epochs.")
  int maxSteps;

  @Option(names = "--lr", defaultValue = "2e-4", paramLabel = "X", description = "Peak learning rate (default ${DEFAULT-VALUE}).")
  double lr;

  @Option(names = "--warmup-steps", defaultValue = "0", paramLabel = "N", description = "Default ${DEFAULT-VALUE}.")
  int warmupSteps;

  @Option(names = "--schedule", defaultValue = "linear", paramLabel = "S", description = "linear, cosine or constant (default ${DEFAULT-VALUE}).")
  String schedule;

  @Option(names = "--weight-decay", defaultValue = "0.0", paramLabel = "W", description = "AdamW weight decay (default ${DEFAULT-VALUE}).")
  double weightDecay;

  @Option(names = "--max-grad-norm", defaultValue = "1.0", paramLabel = "G", description = "Clip the global gradient norm; 0 to disable (default ${DEFAULT-VALUE}).")
  double maxGradNorm;

  @Option(names = "--batch-size", defaultValue = "8", paramLabel = "N", description = "Default ${DEFAULT-VALUE}.")
  int batchSize;

  @Option(names = "--grad-accum", defaultValue = "1", paramLabel = "N", description = "Micro-batches per optimizer step (default ${DEFAULT-VALUE}).")
  int gradAccum;

  @Option(names = "--seq-len", defaultValue = "1024", paramLabel = "N", description = "Cut examples to N tokens (default ${DEFAULT-VALUE}).")
  int seqLen;

  @Option(names = "--train-on-inputs", description = "Also train on prompts and user turns.")
  boolean trainOnInputs;

  @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "Seeds initialisation, data order and dropout (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--checkpoint-every", defaultValue = "0", paramLabel = "N", description = "Save a resumable checkpoint every N steps (default: never).")
  int checkpointEvery;

  @Option(names = "--eval-every", paramLabel = "N", description = "Validation every N steps (default: every epoch).")
  Integer evalEvery;

  @Option(names = "--early-stopping-patience", defaultValue = "0", paramLabel = "N", description = "Stop after N validations without improvement (default: never).")
  int patience;

  @Option(names = "--resume", paramLabel = "DIR", description = "Continue from a checkpoint directory (its adapter and training settings are used).")
  Path resume;

  @Option(names = "--force", description = "Write into a non-empty --output directory.")
  boolean force;

  /** Options that describe the run: with --resume they come from the checkpoint and must not be given. */
  private static final List<String> RUN_OPTIONS = List.of("--method", "--rank", "--alpha", "--rslora", "--dropout",
      "--target-modules", "--nola-bases", "--kron-factor", "--kron-decompose-both", "--epochs", "--max-steps", "--lr",
      "--warmup-steps", "--schedule", "--weight-decay", "--max-grad-norm", "--batch-size", "--grad-accum", "--seed",
      "--checkpoint-every", "--eval-every", "--early-stopping-patience");

  @Override
  public Integer call() throws Exception {
    Options.requirePositive("--seq-len", seqLen);
    LlamaConfig config = ModelDirectory.config(model);
    AdapterSpec adapterSpec;
    TrainingConfig training;
    if (resume != null) {
      List<String> given = RUN_OPTIONS.stream().filter(o -> spec.commandLine().getParseResult().hasMatchedOption(o)).toList();
      if (!given.isEmpty()) {
        throw new IllegalArgumentException("--resume continues the checkpoint's run; do not give " + String.join(", ", given));
      }
      TrainingCheckpoint.Run run = TrainingCheckpoint.readRun(resume);
      adapterSpec = run.adapter();
      training = run.training();
    } else {
      if (method == null) {
        throw new IllegalArgumentException("--method is required (lora, dora, nola or kronecker)");
      }
      requireEmpty(output);
      adapterSpec = new AdapterSpec(AdapterMethod.parse(method), rank, alpha == null ? 2.0 * rank : alpha, dropout,
          TargetModules.parse(targetModules), rslora, nolaBases, nolaBases, kronFactor, kronDecomposeBoth, seed);
      training = new TrainingConfig(epochs, maxSteps, lr, warmupSteps, TrainingConfig.Schedule.parse(schedule), batchSize, gradAccum,
          weightDecay, maxGradNorm, seed, checkpointEvery, 0, patience, 0.9, 0.999, 1e-8);
    }

    List<TokenizedExample> train;
    List<TokenizedExample> valid = List.of();
    int padId;
    try (Tokenizer tokenizer = ModelDirectory.tokenizer(model)) {
      train = Examples.load(data, tokenizer, config, seqLen, trainOnInputs);
      if (validation != null) {
        valid = Examples.load(validation, tokenizer, config, seqLen, trainOnInputs);
      }
      padId = Examples.padTokenId(tokenizer, config);
    }
    if (resume == null && validation != null) {
      int stepsPerEpoch = Math.max(1, training.totalSteps(train.size()) / Math.max(1, training.maxSteps() > 0 ? 1 : training.epochs()));
      int every = evalEvery != null ? evalEvery : (training.maxSteps() > 0 ? 0 : stepsPerEpoch);
      training = training.withMonitoring(training.checkpointEvery(), every, training.earlyStoppingPatience());
    }

    Adapter adapter = Adapter.create(adapterSpec, config, DataType.FLOAT);
    LlamaModel m = adapter.attach(AdaptedModel.weights(model, config, DataType.FLOAT));
    Trainer trainer = new Trainer(m, adapter, training, train, valid, padId, output, model.toString());
    System.err.printf("training %s (%,d parameters, %s) on %d examples%s: %d steps%n", adapterSpec.method().cliName(),
        adapter.parameterCount(), adapterSpec.targetModules(), train.size(),
        valid.isEmpty() ? "" : " (+" + valid.size() + " for validation)", trainer.totalSteps());

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
      result = trainer.listener(new ProgressBar(System.err)).cancellation(cancel).run(resume);
      List<Path> datasets = new ArrayList<>(List.of(data));
      List<Integer> counts = new ArrayList<>(List.of(train.size()));
      if (validation != null) {
        datasets.add(validation);
        counts.add(valid.size());
      }
      Provenance.write(output, Provenance.Inputs.local(model, datasets, counts), trainer.describe(), result, trainer.history());
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
    summary.put("method", adapterSpec.method().cliName());
    summary.put("parameters", adapter.parameterCount());
    summary.put("steps", result.steps());
    summary.put("train_loss", result.finalTrainLoss());
    summary.put("validation_loss", Double.isNaN(result.finalValidationLoss()) ? null : result.finalValidationLoss());
    summary.put("best_validation_loss", Double.isNaN(result.bestValidationLoss()) ? null : result.bestValidationLoss());
    summary.put("stop_reason", result.stopReason());
    summary.put("seconds", Math.round(result.seconds() * 10) / 10.0);
    System.out.println(new ObjectMapper().writeValueAsString(summary));
    return result.stopReason().equals("cancelled") ? 130 : 0;
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

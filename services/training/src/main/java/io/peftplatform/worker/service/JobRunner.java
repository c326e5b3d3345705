package io.peftplatform.worker.service;

import io.peftplatform.adapters.AdaptedModel;
import io.peftplatform.adapters.Adapter;
import io.peftplatform.adapters.AdapterFiles;
import io.peftplatform.adapters.AdapterMethod;
import io.peftplatform.adapters.AdapterSpec;
import io.peftplatform.events.CheckpointSaved;
import io.peftplatform.events.EventCodec;
import io.peftplatform.events.JobCancelled;
import io.peftplatform.events.JobFailed;
import io.peftplatform.events.JobSpec;
import io.peftplatform.events.JobStarted;
import io.peftplatform.events.JobSubmitted;
import io.peftplatform.events.JobSucceeded;
import io.peftplatform.events.ObjectRef;
import io.peftplatform.events.Topics;
import io.peftplatform.events.TrainingProgressed;
import io.peftplatform.llama.Examples;
import io.peftplatform.llama.LlamaModel;
import io.peftplatform.llama.ModelDirectory;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.config.ModelException;
import io.peftplatform.storage.LocalCache;
import io.peftplatform.storage.ObjectLayout;
import io.peftplatform.storage.ScratchDirectories;
import io.peftplatform.storage.ObjectStore;
import io.peftplatform.text.TextException;
import io.peftplatform.text.Tokenizer;
import io.peftplatform.text.dataset.TokenizedExample;
import io.peftplatform.training.CancellationToken;
import io.peftplatform.training.ProgressListener;
import io.peftplatform.service.kafka.EventPublisher;
import io.peftplatform.training.Provenance;
import io.peftplatform.training.Trainer;
import io.peftplatform.training.TrainingCheckpoint;
import io.peftplatform.training.TrainingConfig;
import io.peftplatform.training.TrainingProgress;
import io.peftplatform.training.TrainingResult;
import io.peftplatform.worker.config.WorkerConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.jboss.logging.Logger;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Runs one job: fetch the model and data (cached by SHA-256), tokenize, resume from the job's newest
 * checkpoint in the bucket if a previous attempt left one, train with the core library while publishing
 * progress and uploading checkpoints, then upload the adapter and report success — or failure, or
 * cancellation. Every outcome is an event; nothing is thrown for a job that cannot be trained.
 */
@ApplicationScoped
public class JobRunner {
  private static final Logger LOG = Logger.getLogger(JobRunner.class);

  @Inject WorkerConfig config;
  @Inject ObjectStore store;
  @Inject LocalCache cache;
  @Inject EventPublisher events;
  @Inject Cancellations cancellations;
  @Inject ControlTopicReader control;

  /** A job that cannot run as submitted: reported as JobFailed with this code. */
  static final class Refused extends RuntimeException {
    final String code;

    Refused(String code, String message) {
      super(message);
      this.code = code;
    }
  }

  /**
   * Runs a job whose command came from a partition of job-commands.
   *
   * @return false when the job was handed over to another worker (its command must not be acknowledged)
   */
  public boolean run(JobSubmitted job, int partition) {
    String id = job.aggregateId();
    if (!control.awaitCaughtUp(java.time.Duration.ofSeconds(30))) {
      LOG.warnf("job %s: could not read %s to its end; starting without knowing of earlier cancellations", id,
          io.peftplatform.events.Topics.JOB_CONTROL);
    }
    if (cancellations.isRequested(id)) {
      events.publish(Topics.JOB_EVENTS, new JobCancelled(EventCodec.newId(), Instant.now(), id, job.tenant(), 0));
      return true;
    }
    Optional<String> finished = finishedBefore(job);
    if (finished.isPresent()) {
      // A previous attempt finished but its worker stopped before the command's offset was committed.
      LOG.infof("job %s already finished; announcing its outcome again", id);
      events.publishEncoded(Topics.JOB_EVENTS, id, finished.get());
      return true;
    }
    CancellationToken token = cancellations.register(id, partition);
    Path work = config.workDir().resolve(id);
    try {
      return train(job, work, token);
    } catch (Refused e) {
      fail(job, e.code, e.getMessage());
    } catch (OutOfMemoryError e) {
      fail(job, "out_of_memory", "the worker ran out of memory: lower batch_size or max_seq_len");
    } catch (RuntimeException e) {
      LOG.errorf(e, "job %s failed", id);
      fail(job, "internal_error", String.valueOf(e.getMessage()));
    } finally {
      cancellations.unregister(id);
      ScratchDirectories.deleteQuietly(work);
    }
    return true;
  }

  private void fail(JobSubmitted job, String code, String message) {
    events.publish(Topics.JOB_EVENTS, new JobFailed(EventCodec.newId(), Instant.now(), job.aggregateId(), job.tenant(), code, message));
  }

  /** Trains the job; false if it was handed over to another worker part-way. */
  private boolean train(JobSubmitted job, Path work, CancellationToken token) {
    String id = job.aggregateId();
    JobSpec spec = job.spec();
    Path modelDir = cache.directory("model", job.modelFiles());
    LlamaConfig modelConfig;
    try {
      modelConfig = ModelDirectory.config(modelDir);
    } catch (ModelException e) {
      throw new Refused("invalid_model", e.getMessage());
    }
    Path trainingFile = cache.fetch(job.trainingFile());
    Path validationFile = job.validationFile() == null ? null : cache.fetch(job.validationFile());
    List<TokenizedExample> train;
    List<TokenizedExample> validation = List.of();
    int padId;
    try (Tokenizer tokenizer = ModelDirectory.tokenizer(modelDir)) {
      train = examples(trainingFile, "training_file", tokenizer, modelConfig, spec);
      if (validationFile != null) {
        validation = examples(validationFile, "validation_file", tokenizer, modelConfig, spec);
      }
      padId = Examples.padTokenId(tokenizer, modelConfig);
    }

    AdapterSpec adapterSpec;
    TrainingConfig training;
    try {
      adapterSpec = new AdapterSpec(AdapterMethod.parse(spec.method()), spec.rank(), spec.alpha(), spec.dropout(),
          spec.targetModules(), spec.useRslora(), spec.nolaBases(), spec.nolaBases(), spec.kronFactor(), false, spec.seed());
      training = new TrainingConfig(spec.epochs(), spec.maxSteps(), spec.learningRate(), spec.warmupSteps(),
          TrainingConfig.Schedule.parse(spec.schedule()), spec.batchSize(), spec.gradAccum(), spec.weightDecay(),
          spec.maxGradNorm(), spec.seed(), 0, spec.evalEvery(), spec.earlyStoppingPatience(), 0.9, 0.999, 1e-8);
      int total = training.totalSteps(train.size());
      int checkpointEvery = spec.checkpointEvery() > 0 ? spec.checkpointEvery() : Math.max(1, total / 10);
      int evalEvery = spec.evalEvery() > 0 ? spec.evalEvery() : (spec.maxSteps() > 0 ? 0 : Math.max(1, total / spec.epochs()));
      training = training.withMonitoring(checkpointEvery, validation.isEmpty() ? 0 : evalEvery, spec.earlyStoppingPatience());
    } catch (IllegalArgumentException e) {
      throw new Refused("invalid_hyperparameters", e.getMessage());
    }

    Optional<Path> resume = downloadLatestCheckpoint(job, work);
    int resumedFrom = resume.map(p -> Integer.parseInt(p.getFileName().toString().substring("checkpoint-".length()))).orElse(0);

    Adapter adapter = Adapter.create(adapterSpec, modelConfig, DataType.FLOAT);
    LlamaModel model = adapter.attach(AdaptedModel.weights(modelDir, modelConfig, DataType.FLOAT));
    Path output = work.resolve("output");
    Trainer trainer = new Trainer(model, adapter, training, train, validation, padId, output, "models/" + job.modelId());
    events.publish(Topics.JOB_EVENTS, new JobStarted(EventCodec.newId(), Instant.now(), id, job.tenant(), config.workerId(), trainer.totalSteps(),
        train.size(), resumedFrom));
    TrainingResult result = trainer.listener(new Reporter(job)).cancellation(token).run(resume.orElse(null));
    if (result.stopReason().equals("cancelled") && cancellations.wasPreempted(id)) {
      LOG.infof("job %s handed over at step %d: its partition moved to another worker", id, result.steps());
      return false;
    }
    if (result.stopReason().equals("cancelled")) {
      events.publish(Topics.JOB_EVENTS, new JobCancelled(EventCodec.newId(), Instant.now(), id, job.tenant(), result.steps()));
      return true;
    }
    List<Path> datasets = new ArrayList<>(List.of(trainingFile));
    List<String> datasetNames = new ArrayList<>(List.of(ObjectLayout.datasetId(job.trainingFile().key())));
    List<Integer> counts = new ArrayList<>(List.of(train.size()));
    if (validationFile != null) {
      datasets.add(validationFile);
      datasetNames.add(ObjectLayout.datasetId(job.validationFile().key()));
      counts.add(validation.size());
    }
    Provenance.Inputs inputs = new Provenance.Inputs(modelDir, job.modelId(), datasets, datasetNames, counts);
    Provenance.write(output, inputs, trainer.describe(), result, trainer.history());
    String adapterId = "adapter-" + id.substring(id.indexOf('-') + 1);
    List<ObjectRef> files = new ArrayList<>();
    for (String name : List.of(AdapterFiles.CONFIG, AdapterFiles.WEIGHTS, Provenance.FILE)) {
      files.add(store.put(ObjectLayout.adapterPrefix(job.tenant(), adapterId) + name, output.resolve(name)));
    }
    Map<String, Double> metrics = new LinkedHashMap<>();
    metrics.put("train_loss", result.finalTrainLoss());
    if (!Double.isNaN(result.finalValidationLoss())) {
      metrics.put("validation_loss", result.finalValidationLoss());
      metrics.put("best_validation_loss", result.bestValidationLoss());
    }
    metrics.put("steps", (double) result.steps());
    metrics.put("seconds", result.seconds());
    metrics.put("training_examples", (double) train.size());
    JobSucceeded succeeded = new JobSucceeded(EventCodec.newId(), Instant.now(), id, job.tenant(), job.modelId(), spec.method(), files,
        adapter.parameterCount(), metrics, result.stopReason());
    String encoded = EventCodec.encode(succeeded);
    byte[] bytes = encoded.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    store.put(ObjectLayout.jobResultKey(job.tenant(), id), new java.io.ByteArrayInputStream(bytes), bytes.length);
    events.publishEncoded(Topics.JOB_EVENTS, id, encoded);
    return true;
  }

  /** The success event a previous attempt of this job stored, if one finished. */
  private Optional<String> finishedBefore(JobSubmitted job) {
    return store.readTextIfPresent(ObjectLayout.jobResultKey(job.tenant(), job.aggregateId()));
  }

  private static List<TokenizedExample> examples(Path file, String field, Tokenizer tokenizer, LlamaConfig config, JobSpec spec) {
    List<TokenizedExample> examples;
    try {
      examples = Examples.load(file, tokenizer, config, spec.seqLen(), spec.trainOnInputs());
    } catch (TextException | ModelException e) {
      throw new Refused("invalid_" + field, e.getMessage().replace(file + ":", field + " line ").replace(file.toString(), field));
    }
    if (examples.stream().mapToInt(TokenizedExample::predictedTokens).sum() == 0) {
      throw new Refused("invalid_" + field, field + " has no tokens to train on (are completions empty, or cut off by max_seq_len?)");
    }
    return examples;
  }

  /** The newest checkpoint a previous attempt uploaded, downloaded to where the trainer expects it. */
  private Optional<Path> downloadLatestCheckpoint(JobSubmitted job, Path work) {
    String prefix = ObjectLayout.checkpointsPrefix(job.tenant(), job.aggregateId());
    Map<String, List<String>> byCheckpoint = new java.util.TreeMap<>(Comparator.reverseOrder());
    for (String key : store.list(prefix)) {
      String rest = key.substring(prefix.length());
      int slash = rest.indexOf('/');
      if (slash > 0) {
        byCheckpoint.computeIfAbsent(rest.substring(0, slash), k -> new ArrayList<>()).add(key);
      }
    }
    for (var e : byCheckpoint.entrySet()) {
      // The state file is uploaded last: a checkpoint without it is incomplete.
      if (e.getValue().stream().noneMatch(k -> k.endsWith("/" + TrainingCheckpoint.STATE))) {
        continue;
      }
      Path dir = TrainingCheckpoint.directoryFor(work.resolve("output"), 0).resolveSibling(e.getKey());
      for (String key : e.getValue()) {
        store.get(key, dir.resolve(ObjectLayout.fileName(key)));
      }
      return Optional.of(dir);
    }
    return Optional.empty();
  }

  /** Publishes progress (throttled) and uploads checkpoints as the trainer reports them. */
  private final class Reporter implements ProgressListener {
    private final JobSubmitted job;
    private long lastSent;
    private Double lastValidation;

    Reporter(JobSubmitted job) {
      this.job = job;
    }

    @Override
    public void onStep(TrainingProgress p) {
      if (p.hasValidation()) {
        lastValidation = p.validationLoss();
      }
      long now = System.nanoTime();
      if (p.hasValidation() || p.step() == p.totalSteps() || p.step() == 1 || now - lastSent >= config.progressInterval().toNanos()) {
        lastSent = now;
        events.publish(Topics.JOB_EVENTS, new TrainingProgressed(EventCodec.newId(), Instant.now(), job.aggregateId(), job.tenant(), p.step(), p.totalSteps(),
            p.epoch(), p.trainLoss(), p.hasValidation() ? p.validationLoss() : null, p.learningRate(), p.tokensPerSecond(), p.etaSeconds()));
      }
    }

    @Override
    public void onCheckpoint(int step, Path directory) {
      String prefix = ObjectLayout.checkpointPrefix(job.tenant(), job.aggregateId(), step);
      List<ObjectRef> files = new ArrayList<>();
      try (Stream<Path> list = Files.list(directory)) {
        List<Path> sorted = list.sorted(Comparator.comparing((Path f) -> f.getFileName().toString().equals(TrainingCheckpoint.STATE))
            .thenComparing(f -> f.getFileName().toString())).toList();
        for (Path f : sorted) {
          files.add(store.put(prefix + f.getFileName(), f));
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      events.publish(Topics.JOB_EVENTS, new CheckpointSaved(EventCodec.newId(), Instant.now(), job.aggregateId(), job.tenant(), step, prefix, files, lastValidation));
    }
  }
}

package io.peftplatform.worker.service;

import io.peftplatform.adapters.Adapter;
import io.peftplatform.adapters.AdapterFiles;
import io.peftplatform.events.CheckpointSaved;
import io.peftplatform.events.EventCodec;
import io.peftplatform.events.JobCancelled;
import io.peftplatform.events.JobFailed;
import io.peftplatform.events.JobPaused;
import io.peftplatform.events.JobStarted;
import io.peftplatform.events.JobSubmitted;
import io.peftplatform.events.JobSucceeded;
import io.peftplatform.events.ObjectRef;
import io.peftplatform.events.PlatformEvent;
import io.peftplatform.events.Topics;
import io.peftplatform.events.TrainingProgressed;
import io.peftplatform.service.kafka.EventPublisher;
import io.peftplatform.service.retry.Retries;
import io.peftplatform.service.retry.Transient;
import io.peftplatform.service.tracing.EventTracing;
import io.peftplatform.service.tracing.EventTracing.Traced;
import io.peftplatform.storage.Attempts;
import io.peftplatform.storage.LocalCache;
import io.peftplatform.storage.ObjectLayout;
import io.peftplatform.storage.ObjectStore;
import io.peftplatform.storage.ScratchDirectories;
import io.peftplatform.training.CancellationToken;
import io.peftplatform.training.ProgressListener;
import io.peftplatform.training.Provenance;
import io.peftplatform.training.RunInputException;
import io.peftplatform.training.TrainerState;
import io.peftplatform.training.TrainingCheckpoint;
import io.peftplatform.training.TrainingProgress;
import io.peftplatform.training.TrainingResult;
import io.peftplatform.training.TrainingRun;
import io.peftplatform.training.spec.AdapterMethod;
import io.peftplatform.training.spec.RunSpec;
import io.peftplatform.worker.config.WorkerConfig;
import io.quarkus.runtime.Startup;
import io.smallrye.faulttolerance.api.Guard;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

/**
 * Runs one job: fetch the model and data (cached by SHA-256), tokenize, resume from the job's newest
 * checkpoint if an earlier attempt left one, train while publishing progress and uploading checkpoints,
 * then upload the adapter and report success — or failure, or cancellation. Every outcome is an event,
 * stored before it is announced; nothing is thrown for a job that cannot be trained.
 *
 * <p>Faults are expected. A transient failure (object storage or the broker away) is retried with
 * backoff, resuming from the newest checkpoint, for up to {@code peft.transient-retry-window}; a failed
 * checkpoint upload or progress event does not stop training; the outcome is published until it is sent.
 * Each run is an {@link Attempts attempt} with keys of its own; a job whose workers died
 * {@code peft.max-crashes} times while running it fails as {@code worker_crashed}.
 */
@ApplicationScoped
@Startup // built with the object store and cache at start-up, not when the first job arrives
public class JobRunner {
  private static final Logger LOG = Logger.getLogger(JobRunner.class);

  @Inject WorkerConfig config;
  @Inject ObjectStore store;
  @Inject LocalCache cache;
  @Inject EventPublisher events;
  @Inject Cancellations cancellations;
  @Inject ControlTopicReader control;
  @Inject RunningJobs running;
  @Inject TrainingMetrics trainingMetrics;
  @Inject EventTracing tracing;

  private Guard retries;

  /** A job that cannot run as submitted: reported as JobFailed with this code. */
  static final class Refused extends RuntimeException {
    final String code;

    Refused(String code, String message) {
      super(message);
      this.code = code;
    }
  }

  @PostConstruct
  void init() {
    retries = Retries.withinWindow(config.transientRetryWindow(), JobRunner::isTransient,
        e -> LOG.warnf("%s; the job is tried again (from its last checkpoint)", e.getMessage()));
  }

  static boolean isTransient(Throwable t) {
    return Transient.is(t) || ObjectStore.isTransient(t);
  }

  /**
   * Runs a job whose command came from a partition of job-commands.
   *
   * @return false when the job was handed over to another worker (its command must not be acknowledged)
   */
  public boolean run(JobSubmitted job, int partition) {
    String id = job.aggregateId();
    MDC.put("job_id", id); // on every log line of the job (a field of the JSON lines in containers)
    MDC.put("tenant", job.tenant());
    CancellationToken token = cancellations.register(id, partition);
    running.started(id, job.tenant());
    Attempts.Attempt[] attempt = new Attempts.Attempt[1];
    try {
      Optional<String> outcome = outcome(job, token, attempt);
      boolean sent = outcome.isPresent()
          && events.publishUntilSent(Topics.JOB_EVENTS, id, outcome.get(), () -> cancellations.isPreempted(id));
      end(attempt[0], sent ? "finished" : "handed_over");
      if (!sent) {
        LOG.infof("job %s handed over: its partition moved to another worker", id);
      }
      return sent;
    } finally {
      cancellations.unregister(id);
      running.ended(id);
      ScratchDirectories.deleteQuietly(config.workDir().resolve(id));
      MDC.remove("job_id");
      MDC.remove("tenant");
    }
  }

  /** The job's outcome as an encoded event (stored when it could be), or empty when it was handed over. */
  private Optional<String> outcome(JobSubmitted job, CancellationToken token, Attempts.Attempt[] attempt) {
    try {
      return call(() -> execute(job, token, attempt));
    } catch (Exception e) {
      LOG.errorf(e, "job %s: %s", job.aggregateId(), e.getMessage());
      // Transient for longer than the window, or a failure outside training: the job fails with the reason.
      return Optional.of(EventCodec.encode(isTransient(e)
          ? failed(job, "unavailable", "the job could not go on: object storage or the broker stayed unavailable for "
              + config.transientRetryWindow().toMinutes() + " min (" + e.getMessage() + ")")
          : failed(job, "internal_error", String.valueOf(e.getMessage()))));
    }
  }

  /** One try at the job, start to stored outcome; a transient failure is thrown, to be tried again. */
  private Optional<String> execute(JobSubmitted job, CancellationToken token, Attempts.Attempt[] attempt) {
    String id = job.aggregateId();
    String base = ObjectLayout.jobPrefix(job.tenant(), id);
    running.phase(id, "preparing");
    try (Traced stage = tracing.work("attempt", Map.of())) {
      Optional<String> stored = Attempts.outcome(store, base);
      if (stored.isPresent()) {
        // A previous attempt finished, but its worker stopped before the command's offset was committed.
        LOG.infof("job %s already finished; announcing its outcome again", id);
        return stored;
      }
      if (attempt[0] == null) {
        attempt[0] = Attempts.begin(store, base, config.workerId());
      }
    }
    Attempts.Attempt a = attempt[0];
    PlatformEvent outcome;
    if (a.crashedBefore() >= config.maxCrashes()) {
      outcome = failed(job, "worker_crashed", "the job's worker stopped without finishing it " + a.crashedBefore()
          + " times (last: " + a.lastCrashedWorker() + "); it may need more memory than a worker has: lower batch_size or max_seq_len");
    } else {
      try (Traced stage = tracing.work("control catch-up", Map.of())) {
        if (!control.awaitCaughtUp(Duration.ofSeconds(30))) {
          LOG.warnf("job %s: could not read %s to its end; starting without knowing of earlier cancellations", id, Topics.JOB_CONTROL);
        }
      }
      if (cancellations.isPauseRequested(id)) {
        token.pause(); // a pause that still holds: the run stops at its first step, where it resumed
      }
      if (cancellations.isRequested(id)) {
        outcome = new JobCancelled(EventCodec.newId(), Instant.now(), id, job.tenant(), 0);
      } else {
        Optional<PlatformEvent> trained = trainOrRefuse(job, token, a);
        if (trained.isEmpty()) {
          return Optional.empty();
        }
        outcome = trained.get();
      }
    }
    String encoded = EventCodec.encode(outcome);
    if (!(outcome instanceof JobPaused)) {
      // A pause is not the job's end: the command that resumes it must run, not be answered with it.
      Attempts.storeOutcome(store, a, encoded);
    }
    return Optional.of(encoded);
  }

  private Optional<PlatformEvent> trainOrRefuse(JobSubmitted job, CancellationToken token, Attempts.Attempt attempt) {
    Path work = config.workDir().resolve(job.aggregateId());
    ScratchDirectories.deleteQuietly(work);
    try {
      return train(job, work, token, attempt);
    } catch (Refused e) {
      return Optional.of(failed(job, e.code, e.getMessage()));
    } catch (OutOfMemoryError e) {
      return Optional.of(failed(job, "out_of_memory", "the worker ran out of memory: lower batch_size or max_seq_len"));
    } catch (RuntimeException e) {
      if (isTransient(e)) {
        throw e;
      }
      LOG.errorf(e, "job %s failed", job.aggregateId());
      return Optional.of(failed(job, "internal_error", String.valueOf(e.getMessage())));
    }
  }

  private static JobFailed failed(JobSubmitted job, String code, String message) {
    return new JobFailed(EventCodec.newId(), Instant.now(), job.aggregateId(), job.tenant(), code, message);
  }

  private void end(Attempts.Attempt attempt, String how) {
    if (attempt == null) {
      return;
    }
    try {
      Attempts.end(store, attempt, how);
    } catch (RuntimeException e) {
      LOG.warnf("attempt %s: could not record its end (%s)", attempt.id(), e.getMessage());
    }
  }

  /** Trains the job; empty if it was handed over to another worker part-way. */
  private Optional<PlatformEvent> train(JobSubmitted job, Path work, CancellationToken token, Attempts.Attempt attempt) {
    String id = job.aggregateId();
    RunSpec spec = job.spec();
    Path modelDir;
    Path trainingFile;
    Path validationFile;
    try (Traced stage = tracing.work("fetch inputs", Map.of())) {
      modelDir = cache.directory("model", job.modelFiles());
      trainingFile = cache.fetch(job.trainingFile());
      validationFile = job.validationFile() == null ? null : cache.fetch(job.validationFile());
    }
    Path output = work.resolve("output");
    TrainingRun run;
    try (Traced stage = tracing.work("prepare run", Map.of())) {
      run = TrainingRun.prepare(spec, modelDir, "models/" + job.modelId(),
          new TrainingRun.DataFile("training_file", trainingFile, ObjectLayout.datasetId(job.trainingFile().key())),
          validationFile == null ? null
              : new TrainingRun.DataFile("validation_file", validationFile, ObjectLayout.datasetId(job.validationFile().key())),
          output);
    } catch (RunInputException e) {
      throw new Refused(switch (e.input()) {
        case RunInputException.MODEL -> "invalid_model";
        case RunInputException.SPEC -> "invalid_hyperparameters";
        default -> "invalid_" + e.input();
      }, e.getMessage());
    }

    Optional<Path> resume;
    try (Traced stage = tracing.work("checkpoint lookup", Map.of())) {
      resume = downloadLatestCheckpoint(job, work);
    }
    int resumedFrom = resume.map(p -> Integer.parseInt(p.getFileName().toString().substring("checkpoint-".length()))).orElse(0);

    run.activationCheckpointing(config.activationCheckpointing());
    Adapter adapter = run.adapter();
    events.publish(Topics.JOB_EVENTS, new JobStarted(EventCodec.newId(), Instant.now(), id, job.tenant(), config.workerId(),
        run.trainer().totalSteps(), run.trainingExamples(), resumedFrom, attempt.number()));
    running.phase(id, "training");
    TrainingResult result = run.run(new Reporter(job, attempt), token, resume.orElse(null), job.modelId());
    if (result.stopReason().equals("cancelled") && cancellations.isPreempted(id)) {
      LOG.infof("job %s handed over at step %d: its partition moved to another worker", id, result.steps());
      return Optional.empty();
    }
    if (result.stopReason().equals("cancelled")) {
      return Optional.of(new JobCancelled(EventCodec.newId(), Instant.now(), id, job.tenant(), result.steps()));
    }
    if (result.stopReason().equals("paused")) {
      return Optional.of(new JobPaused(EventCodec.newId(), Instant.now(), id, job.tenant(), result.steps()));
    }
    running.phase(id, "finishing");
    // The adapter goes under this attempt's prefix: a run presumed dead cannot overwrite it.
    String adapterId = "adapter-" + id.substring(id.indexOf('-') + 1);
    String prefix = ObjectLayout.adapterPrefix(job.tenant(), adapterId) + attempt.id() + "/";
    // What PEFT, vLLM and LoRAX load: the plain LoRA a NOLA adapter equals, stored beside it (downloads with ?format=peft).
    Path peft = output.resolve("peft");
    if (adapter.spec().method() == AdapterMethod.NOLA) {
      AdapterFiles.exportPeft(adapter, peft, "models/" + job.modelId());
    }
    List<ObjectRef> files;
    try {
      files = call(() -> {
        List<ObjectRef> uploaded = new ArrayList<>();
        for (String name : List.of(AdapterFiles.CONFIG, AdapterFiles.WEIGHTS, Provenance.FILE)) {
          uploaded.add(store.put(prefix + name, output.resolve(name)));
        }
        if (adapter.spec().method() == AdapterMethod.NOLA) {
          for (String name : List.of(AdapterFiles.CONFIG, AdapterFiles.WEIGHTS)) {
            store.put(ObjectLayout.peftExportKey(prefix + name), peft.resolve(name));
          }
        }
        return uploaded;
      });
    } catch (Exception e) {
      throw new IllegalStateException("the trained adapter could not be stored: " + e.getMessage(), e);
    }
    Map<String, Double> metrics = new LinkedHashMap<>();
    metrics.put("train_loss", result.finalTrainLoss());
    if (!Double.isNaN(result.finalValidationLoss())) {
      metrics.put("validation_loss", result.finalValidationLoss());
      metrics.put("best_validation_loss", result.bestValidationLoss());
    }
    metrics.put("steps", (double) result.steps());
    metrics.put("seconds", result.seconds());
    List<TrainerState.Entry> history = run.trainer().history();
    if (!history.isEmpty()) {
      history.get(history.size() - 1).metrics().forEach(metrics::put);
    }
    metrics.put("training_examples", (double) run.trainingExamples());
    if (result.trainedTokens() >= 0) {
      metrics.put("trained_tokens", (double) result.trainedTokens());
    }
    return Optional.of(new JobSucceeded(EventCodec.newId(), Instant.now(), id, job.tenant(), job.modelId(), spec.adapter().method().cliName(), files,
        adapter.parameterCount(), metrics, result.stopReason()));
  }

  /** Runs through the retry guard: transient failures are tried again with backoff, within the window. */
  @SuppressWarnings("unchecked")
  private <T> T call(Callable<T> work) throws Exception {
    return (T) retries.call(work::call, Object.class);
  }

  /**
   * The newest complete checkpoint any earlier attempt uploaded (the state file goes last, so one without
   * it is incomplete), downloaded to where the trainer expects it.
   */
  private Optional<Path> downloadLatestCheckpoint(JobSubmitted job, Path work) {
    String prefix = ObjectLayout.jobPrefix(job.tenant(), job.aggregateId()) + "attempts/";
    TreeMap<String, List<String>> byCheckpoint = new TreeMap<>(Comparator.reverseOrder());
    for (String key : store.list(prefix)) {
      // attempts/{attempt}/checkpoints/checkpoint-{step}/{file}
      String[] parts = key.substring(prefix.length()).split("/");
      if (parts.length == 4 && parts[1].equals("checkpoints") && parts[2].startsWith("checkpoint-")) {
        byCheckpoint.computeIfAbsent(parts[2] + "/" + parts[0], k -> new ArrayList<>()).add(key);
      }
    }
    for (var e : byCheckpoint.entrySet()) {
      if (e.getValue().stream().noneMatch(k -> k.endsWith("/" + TrainingCheckpoint.STATE))) {
        continue;
      }
      String name = e.getKey().substring(0, e.getKey().indexOf('/'));
      Path dir = TrainingCheckpoint.directoryFor(work.resolve("output"), 0).resolveSibling(name);
      for (String key : e.getValue()) {
        store.get(key, dir.resolve(ObjectLayout.fileName(key)));
      }
      return Optional.of(dir);
    }
    return Optional.empty();
  }

  /** Publishes progress (throttled, best effort) and uploads checkpoints as the trainer reports them. */
  private final class Reporter implements ProgressListener {
    private final JobSubmitted job;
    private final Attempts.Attempt attempt;
    private long lastSent;
    private Double lastValidation;

    Reporter(JobSubmitted job, Attempts.Attempt attempt) {
      this.job = job;
      this.attempt = attempt;
    }

    @Override
    public void onStep(TrainingProgress p) {
      running.step(job.aggregateId(), p.step());
      trainingMetrics.step(job.aggregateId(), p);
      if (p.hasValidation()) {
        lastValidation = p.validationLoss();
      }
      long now = System.nanoTime();
      if (p.hasValidation() || p.step() == p.totalSteps() || p.step() == 1 || now - lastSent >= config.progressInterval().toNanos()) {
        lastSent = now;
        events.offer(Topics.JOB_EVENTS, new TrainingProgressed(EventCodec.newId(), Instant.now(), job.aggregateId(), job.tenant(), p.step(),
            p.totalSteps(), p.epoch(), p.trainLoss(), p.hasValidation() ? p.validationLoss() : null, p.learningRate(), p.tokensPerSecond(),
            p.etaSeconds(), p.metrics()));
      }
    }

    /** A checkpoint that cannot be stored is skipped (training goes on; the next one may be). */
    @Override
    public void onCheckpoint(int step, Path directory) {
      String prefix = ObjectLayout.checkpointPrefix(attempt, step);
      List<ObjectRef> files = new ArrayList<>();
      try (Stream<Path> list = Files.list(directory)) {
        List<Path> sorted = list.sorted(Comparator.comparing((Path f) -> f.getFileName().toString().equals(TrainingCheckpoint.STATE))
            .thenComparing(f -> f.getFileName().toString())).toList();
        for (Path f : sorted) {
          files.add(store.put(prefix + f.getFileName(), f));
        }
        events.publish(Topics.JOB_EVENTS, new CheckpointSaved(EventCodec.newId(), Instant.now(), job.aggregateId(), job.tenant(), step,
            prefix, files, lastValidation));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (RuntimeException e) {
        LOG.warnf("job %s: the checkpoint at step %d was not stored (%s); training goes on", job.aggregateId(), step, e.getMessage());
      }
    }
  }
}

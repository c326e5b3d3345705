package io.peftplatform.merger.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.peftplatform.events.EventCodec;
import io.peftplatform.events.MergeCancelled;
import io.peftplatform.events.MergeFailed;
import io.peftplatform.events.MergeProgressed;
import io.peftplatform.events.MergeRequested;
import io.peftplatform.events.MergeSucceeded;
import io.peftplatform.events.ObjectRef;
import io.peftplatform.events.PlatformEvent;
import io.peftplatform.events.Topics;
import io.peftplatform.merge.config.LearnedMergeSpec;
import io.peftplatform.merge.config.MergeConfig;
import io.peftplatform.merge.config.MergeConfigException;
import io.peftplatform.merge.config.ModelReference;
import io.peftplatform.merger.config.MergerConfig;
import io.peftplatform.merging.MergeMethod;
import io.peftplatform.merging.MergeSpec;
import io.peftplatform.merging.Merger;
import io.peftplatform.merging.learned.LearnedMerge;
import io.peftplatform.merging.mergekit.ModelMerge;
import io.peftplatform.service.kafka.EventPublisher;
import io.peftplatform.service.retry.Retries;
import io.peftplatform.service.retry.Transient;
import io.peftplatform.storage.Attempts;
import io.peftplatform.storage.LocalCache;
import io.peftplatform.storage.ObjectLayout;
import io.peftplatform.storage.ObjectStore;
import io.peftplatform.storage.ScratchDirectories;
import io.peftplatform.training.CancellationToken;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.jboss.logging.Logger;
import org.jboss.logging.MDC;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Runs one merge: fetches the base model and the adapters (cached by SHA-256), merges with the core
 * library, uploads the output under the id it will be registered as, and publishes the outcome. The
 * outcome is stored before it is published, so a redelivered request re-announces it instead of
 * merging again. What the request gets wrong (a rank a module cannot hold, adapters of another model)
 * ends as {@link MergeFailed} with the reason, never as a request stuck in the queue. A learned merge
 * reports its steps ({@link MergeProgressed}), saves its state every
 * {@code peft.learned-state-interval} under its attempt so the next attempt after a crash resumes from
 * there, and stops when asked ({@link MergeCancelled}); any merge asked to stop before it starts is skipped.
 */
@ApplicationScoped
public class MergeRunner {
  private static final Logger LOG = Logger.getLogger(MergeRunner.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  @Inject ObjectStore store;
  @Inject LocalCache cache;
  @Inject EventPublisher events;
  @Inject MergerConfig config;
  @Inject MergeControl control;
  @Inject MeterRegistry registry;

  private Guard retries;

  @PostConstruct
  void init() {
    retries = Retries.withinWindow(config.transientRetryWindow(), MergeRunner::isTransient,
        e -> LOG.warnf("%s; the merge is tried again", e.getMessage()));
  }

  static boolean isTransient(Throwable t) {
    return Transient.is(t) || ObjectStore.isTransient(t);
  }

  public void run(MergeRequested r) {
    MDC.put("merge_id", r.aggregateId()); // on every log line of the merge (a field of the JSON lines in containers)
    MDC.put("tenant", r.tenant());
    try {
      runLogged(r);
    } finally {
      MDC.remove("merge_id");
      MDC.remove("tenant");
    }
  }

  private void runLogged(MergeRequested r) {
    Timer.Sample timing = Timer.start(registry);
    Attempts.Attempt[] attempt = new Attempts.Attempt[1];
    String outcome;
    try {
      outcome = (String) retries.call(() -> execute(r, attempt), Object.class);
    } catch (Exception e) {
      LOG.errorf("merge %s: %s", r.aggregateId(), e.getMessage());
      outcome = EventCodec.encode(new MergeFailed(EventCodec.newId(), Instant.now(), r.aggregateId(), r.tenant(),
          isTransient(e) ? "unavailable" : "merge_failed", isTransient(e)
              ? "object storage or the broker stayed unavailable for " + config.transientRetryWindow().toMinutes() + " min (" + e.getMessage() + ")"
              : String.valueOf(e.getMessage())));
    } finally {
      ScratchDirectories.deleteQuietly(config.workDir().resolve(r.aggregateId()));
    }
    events.publishUntilSent(Topics.MERGE_EVENTS, r.aggregateId(), outcome, () -> false);
    timing.stop(Timer.builder("peft.merge.duration").description("Merges from their command to their outcome on this worker")
        .tag("method", r.config() != null ? "mergekit" : String.valueOf(r.method())).tag("outcome", outcomeName(outcome)).register(registry));
    if (attempt[0] != null) {
      try {
        Attempts.end(store, attempt[0], "finished");
      } catch (RuntimeException e) {
        LOG.warnf("merge %s: could not record the end of attempt %s (%s)", r.aggregateId(), attempt[0].id(), e.getMessage());
      }
    }
  }

  /** succeeded, failed or cancelled: what an encoded outcome event says. */
  static String outcomeName(String outcome) {
    PlatformEvent e = EventCodec.decode(outcome);
    return e instanceof MergeSucceeded ? "succeeded" : e instanceof MergeCancelled ? "cancelled" : "failed";
  }

  /** One try, from the stored outcome of an earlier attempt or a merge of its own; transient failures are thrown. */
  private String execute(MergeRequested r, Attempts.Attempt[] attempt) {
    String base = ObjectLayout.mergePrefix(r.tenant(), r.aggregateId());
    Optional<String> finished = Attempts.outcome(store, base);
    if (finished.isPresent()) {
      LOG.infof("merge %s already finished: publishing its outcome again", r.aggregateId());
      return finished.get();
    }
    if (attempt[0] == null) {
      attempt[0] = Attempts.begin(store, base, config.workerId());
    }
    Attempts.Attempt a = attempt[0];
    PlatformEvent outcome;
    if (a.crashedBefore() >= config.maxCrashes()) {
      outcome = new MergeFailed(EventCodec.newId(), Instant.now(), r.aggregateId(), r.tenant(), "worker_crashed",
          "the merge stopped its worker " + a.crashedBefore() + " times (last: " + a.lastCrashedWorker() + "); it may need more memory");
    } else {
      Path work = config.workDir().resolve(r.aggregateId());
      control.awaitCaughtUp(Duration.ofSeconds(30)); // a stop sent before this worker took the merge up is seen
      CancellationToken token = control.register(r.aggregateId());
      try {
        ScratchDirectories.deleteQuietly(work);
        outcome = token.isCancelled() ? new MergeCancelled(EventCodec.newId(), Instant.now(), r.aggregateId(), r.tenant(), 0)
            : merge(r, work, a, token);
      } catch (RuntimeException e) {
        if (isTransient(e)) {
          throw e;
        }
        LOG.infof("merge %s failed: %s", r.aggregateId(), e.getMessage());
        outcome = new MergeFailed(EventCodec.newId(), Instant.now(), r.aggregateId(), r.tenant(), "merge_failed",
            e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
      } finally {
        control.unregister(r.aggregateId());
      }
    }
    String encoded = EventCodec.encode(outcome);
    Attempts.storeOutcome(store, a, encoded);
    return encoded;
  }

  private PlatformEvent merge(MergeRequested r, Path work, Attempts.Attempt attempt, CancellationToken token) {
    if (r.config() != null) {
      return mergeModels(r, work, attempt);
    }
    if (r.learned() != null) {
      return mergeLearned(r, work, attempt, token);
    }
    long start = System.nanoTime();
    Path modelDir = cache.directory("model", r.modelFiles());
    List<Path> adapterDirs = new ArrayList<>();
    List<Double> weights = new ArrayList<>();
    for (MergeRequested.Input in : r.adapters()) {
      adapterDirs.add(cache.directory("adapter", in.files()));
      weights.add(in.weight());
    }
    MergeSpec spec = new MergeSpec(MergeMethod.byName(r.method()), weights, r.density(), r.seed());
    Path out = work.resolve("output");
    boolean model = r.rank() == 0;
    Merger.Result result = model ? Merger.toModel(modelDir, adapterDirs, spec, out)
        : Merger.toAdapter(modelDir, adapterDirs, spec, r.rank(), out, r.modelId());
    List<ObjectRef> files = upload(r, model, out, attempt);
    LOG.infof("merge %s: %s of %d adapters into %s %s in %.1f s", r.aggregateId(), r.method(), r.adapters().size(),
        model ? "model" : "adapter", r.outputId(), (System.nanoTime() - start) / 1e9);
    return new MergeSucceeded(EventCodec.newId(), Instant.now(), r.aggregateId(), r.tenant(), r.modelId(), model ? "model" : "adapter",
        r.outputId(), files, result.parameters(), model ? architecture(out) : null);
  }

  /**
   * A mergekit configuration over registered models: every id it names fetched (cached by SHA-256),
   * {@code model-…+adapter-…} folding the adapter in, the output a new model.
   */
  private MergeSucceeded mergeModels(MergeRequested r, Path work, Attempts.Attempt attempt) {
    long start = System.nanoTime();
    MergeConfig config = MergeConfig.parse(r.config());
    Map<String, Path> dirs = new HashMap<>();
    for (MergeRequested.Registered m : r.models()) {
      dirs.put(m.id(), cache.directory(m.id().startsWith("adapter-") ? "adapter" : "model", m.files()));
    }
    ModelReference.Resolver resolver = id -> {
      Path dir = dirs.get(id);
      if (dir == null) {
        throw new MergeConfigException(id + ": not a model or adapter of this merge");
      }
      return dir;
    };
    Path out = work.resolve("output");
    ModelMerge.Result result = ModelMerge.run(config, resolver, r.seed(), out);
    List<ObjectRef> files = upload(r, true, out, attempt);
    LOG.infof("merge %s: %s of %d models into model %s in %.1f s", r.aggregateId(), config.method().configName(),
        config.referencedModels().size(), r.outputId(), (System.nanoTime() - start) / 1e9);
    return new MergeSucceeded(EventCodec.newId(), Instant.now(), r.aggregateId(), r.tenant(), r.modelId(), "model", r.outputId(), files,
        result.parameters(), architecture(out));
  }

  private static final String LEARNED_STATE = "learned-state.json";

  /**
   * A learned merge of the adapters (Expert Merging, AdaMerging) on the calibration datasets, from the
   * state an earlier attempt saved if there is one; progress published every few seconds, the state
   * saved under this attempt every {@code peft.learned-state-interval}.
   */
  private PlatformEvent mergeLearned(MergeRequested r, Path work, Attempts.Attempt attempt, CancellationToken token) {
    long start = System.nanoTime();
    LearnedMergeSpec spec = r.learned().spec();
    boolean perExpert = spec.method().calibrationPerExpert();
    Path modelDir = cache.directory("model", r.modelFiles());
    List<Path> calibration = new ArrayList<>();
    for (MergeRequested.Registered c : r.learned().calibration()) {
      if (c.files().size() != 1) {
        throw new IllegalArgumentException("calibration: dataset " + c.id() + " is not one file");
      }
      calibration.add(cache.fetch(c.files().get(0)));
    }
    List<LearnedMerge.ExpertInput> experts = new ArrayList<>();
    for (int i = 0; i < r.adapters().size(); i++) {
      MergeRequested.Input in = r.adapters().get(i);
      experts.add(new LearnedMerge.ExpertInput(in.adapterId(), cache.directory("adapter", in.files()), false,
          perExpert ? r.learned().calibration().get(i).id() : null, perExpert ? calibration.get(i) : null));
    }
    LearnedMerge merge = LearnedMerge.prepare(spec, modelDir, experts, perExpert ? List.of() : calibration, DataType.FLOAT);
    LearnedMerge.State resume = Attempts.latestFile(store, attempt.base(), LEARNED_STATE).map(this::readState).orElse(null);
    if (resume != null && !merge.canResume(resume)) {
      LOG.warnf("merge %s: the saved state does not fit this merge; starting over", r.aggregateId());
      resume = null;
    }
    int resumedFrom = resume == null ? 0 : resume.step();
    long[] lastEvent = {0};
    long[] lastSave = {System.nanoTime()};
    LearnedMerge.Listener listener = s -> {
      long now = System.nanoTime();
      if (s.step() == resumedFrom || s.step() + 1 == s.steps() || now - lastEvent[0] >= 2_000_000_000L) {
        lastEvent[0] = now;
        events.offer(Topics.MERGE_EVENTS, new MergeProgressed(EventCodec.newId(), Instant.now(), r.aggregateId(), r.tenant(), s.step() + 1,
            s.steps(), s.loss(), s.parts(), resumedFrom));
      }
      if (now - lastSave[0] >= config.learnedStateInterval().toNanos() && s.step() + 1 < s.steps()) {
        lastSave[0] = now;
        saveState(attempt, merge.state());
      }
    };
    LearnedMerge.State reached = merge.run(listener, token, resume);
    if (token.isCancelled()) {
      LOG.infof("merge %s: cancelled at step %d", r.aggregateId(), reached.step());
      return new MergeCancelled(EventCodec.newId(), Instant.now(), r.aggregateId(), r.tenant(), reached.step());
    }
    Path out = work.resolve("output");
    boolean model = r.rank() == 0;
    Merger.Result result = model ? merge.writeModel(out) : merge.writeAdapter(out, r.rank(), r.modelId());
    List<ObjectRef> files = upload(r, model, out, attempt);
    LOG.infof("merge %s: %s of %d adapters (%d steps%s) into %s %s in %.1f s", r.aggregateId(), spec.method().apiName(),
        r.adapters().size(), spec.steps(), resume == null ? "" : ", resumed at step " + resume.step(), model ? "model" : "adapter",
        r.outputId(), (System.nanoTime() - start) / 1e9);
    return new MergeSucceeded(EventCodec.newId(), Instant.now(), r.aggregateId(), r.tenant(), r.modelId(), model ? "model" : "adapter",
        r.outputId(), files, result.parameters(), model ? architecture(out) : null);
  }

  private void saveState(Attempts.Attempt attempt, LearnedMerge.State state) {
    try {
      byte[] json = JSON.writeValueAsBytes(state);
      store.put(attempt.prefix() + LEARNED_STATE, new java.io.ByteArrayInputStream(json), json.length);
    } catch (IOException | RuntimeException e) {
      LOG.warnf("could not save a learned merge's state under %s (%s); the next save may", attempt.prefix(), e.getMessage());
    }
  }

  private LearnedMerge.State readState(String key) {
    try {
      return JSON.readValue(store.readText(key), LearnedMerge.State.class);
    } catch (IOException e) {
      LOG.warnf("ignored an unreadable learned merge state %s (%s)", key, e.getMessage());
      return null;
    }
  }

  /** Under this attempt's prefix: a run presumed dead cannot overwrite what this one registers. */
  private List<ObjectRef> upload(MergeRequested r, boolean model, Path out, Attempts.Attempt attempt) {
    String prefix = (model ? ObjectLayout.modelPrefix(r.tenant(), r.outputId()) : ObjectLayout.adapterPrefix(r.tenant(), r.outputId()))
        + attempt.id() + "/";
    List<ObjectRef> files = new ArrayList<>();
    try (Stream<Path> list = Files.list(out)) {
      for (Path f : list.filter(Files::isRegularFile).sorted().toList()) {
        files.add(store.put(prefix + f.getFileName(), f));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return files;
  }

  private static String architecture(Path modelDir) {
    try {
      JsonNode config = JSON.readTree(modelDir.resolve("config.json").toFile());
      return config.path("architectures").path(0).asText(null);
    } catch (IOException e) {
      return null;
    }
  }
}

package io.peftplatform.merger.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftplatform.events.EventCodec;
import io.peftplatform.events.MergeFailed;
import io.peftplatform.events.MergeRequested;
import io.peftplatform.events.MergeSucceeded;
import io.peftplatform.events.ObjectRef;
import io.peftplatform.events.PlatformEvent;
import io.peftplatform.events.Topics;
import io.peftplatform.merger.config.MergerConfig;
import io.peftplatform.merging.MergeMethod;
import io.peftplatform.merging.MergeSpec;
import io.peftplatform.merging.Merger;
import io.peftplatform.service.kafka.EventPublisher;
import io.peftplatform.storage.LocalCache;
import io.peftplatform.storage.ObjectLayout;
import io.peftplatform.storage.ScratchDirectories;
import io.peftplatform.storage.ObjectStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * Runs one merge: fetches the base model and the adapters (cached by SHA-256), merges with the core
 * library, uploads the output under the id it will be registered as, and publishes the outcome. The
 * outcome is stored before it is published, so a redelivered request re-announces it instead of
 * merging again. What the request gets wrong (a rank a module cannot hold, adapters of another model)
 * ends as {@link MergeFailed} with the reason, never as a request stuck in the queue.
 */
@ApplicationScoped
public class MergeRunner {
  private static final Logger LOG = Logger.getLogger(MergeRunner.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  @Inject ObjectStore store;
  @Inject LocalCache cache;
  @Inject EventPublisher events;
  @Inject MergerConfig config;

  public void run(MergeRequested r) {
    String resultKey = ObjectLayout.mergeResultKey(r.tenant(), r.aggregateId());
    Optional<String> finished = store.readTextIfPresent(resultKey);
    if (finished.isPresent()) {
      LOG.infof("merge %s already finished: publishing its outcome again", r.aggregateId());
      events.publishEncoded(Topics.MERGE_EVENTS, r.aggregateId(), finished.get());
      return;
    }
    Path work = config.workDir().resolve(r.aggregateId());
    PlatformEvent outcome;
    try {
      ScratchDirectories.deleteQuietly(work);
      outcome = merge(r, work);
    } catch (RuntimeException e) {
      LOG.infof("merge %s failed: %s", r.aggregateId(), e.getMessage());
      outcome = new MergeFailed(EventCodec.newId(), Instant.now(), r.aggregateId(), r.tenant(), "merge_failed",
          e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
    } finally {
      ScratchDirectories.deleteQuietly(work);
    }
    byte[] encoded = EventCodec.encode(outcome).getBytes(StandardCharsets.UTF_8);
    store.put(resultKey, new ByteArrayInputStream(encoded), encoded.length);
    events.publishEncoded(Topics.MERGE_EVENTS, r.aggregateId(), new String(encoded, StandardCharsets.UTF_8));
  }

  private MergeSucceeded merge(MergeRequested r, Path work) {
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
    String prefix = model ? ObjectLayout.modelPrefix(r.tenant(), r.outputId()) : ObjectLayout.adapterPrefix(r.tenant(), r.outputId());
    List<ObjectRef> files = new ArrayList<>();
    try (Stream<Path> list = Files.list(out)) {
      for (Path f : list.filter(Files::isRegularFile).sorted().toList()) {
        files.add(store.put(prefix + f.getFileName(), f));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    LOG.infof("merge %s: %s of %d adapters into %s %s in %.1f s", r.aggregateId(), r.method(), r.adapters().size(),
        model ? "model" : "adapter", r.outputId(), (System.nanoTime() - start) / 1e9);
    return new MergeSucceeded(EventCodec.newId(), Instant.now(), r.aggregateId(), r.tenant(), r.modelId(), model ? "model" : "adapter",
        r.outputId(), files, result.parameters(), model ? architecture(out) : null);
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

package io.peftplatform.worker.service;

import io.peftplatform.llama.checkpoint.Presets;
import io.peftplatform.storage.ObjectStore;
import io.peftplatform.storage.ScratchDirectories;
import io.peftplatform.text.Tokenizer;
import io.peftplatform.text.bpe.GeneratedTokenizer;
import io.peftplatform.training.bench.TrainBenchmark;
import io.peftplatform.training.spec.AdapterMethod;
import io.peftplatform.training.spec.AdapterSpec;
import io.peftplatform.worker.config.WorkerConfig;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jboss.logging.Logger;

/**
 * At start-up, in a background thread: one request to object storage, a tiny generated tokenizer loaded and used (the tokenizers
 * library's native code is unpacked and linked) and two LoRA steps on a tiny random model (ND4J's natives
 * loaded, the training path compiled), before the first job arrives, which then starts training in about
 * the time its model and data take to fetch ({@code peft.warm-up}, on by default).
 */
@ApplicationScoped
public class WorkerWarmUp {
  private static final Logger LOG = Logger.getLogger(WorkerWarmUp.class);

  @Inject WorkerConfig config;
  @Inject ObjectStore store;

  void onStart(@Observes StartupEvent e) {
    if (!config.warmUp()) {
      return;
    }
    Thread t = new Thread(() -> {
      try {
        store.size(".warm-up"); // the storage client's request path, before a job needs it
      } catch (RuntimeException ex) {
        LOG.debugf("warm-up: object storage not reachable yet (%s)", ex.getMessage());
      }
      warmUp();
    }, "training-warm-up");
    t.setDaemon(true);
    t.setPriority(Thread.MIN_PRIORITY);
    t.start();
  }

  static void warmUp() {
    long start = System.nanoTime();
    Path dir = null;
    try {
      dir = Files.createTempDirectory("peft-warm-up");
      GeneratedTokenizer.write(dir, 300, 64);
      try (Tokenizer tokenizer = Tokenizer.load(dir)) {
        tokenizer.encode("warm up", true);
      }
      TrainBenchmark.run(Presets.get("tiny"), AdapterSpec.defaults(AdapterMethod.LORA), 2, 16, 0, 2, 0);
      LOG.infof("training path warmed up in %d ms", (System.nanoTime() - start) / 1_000_000);
    } catch (IOException | RuntimeException | LinkageError ex) {
      LOG.warnf("warm-up failed (the first job will start slower): %s", ex.toString());
    } finally {
      if (dir != null) {
        ScratchDirectories.deleteQuietly(dir);
      }
    }
  }
}

package io.peftplatform.worker.service;

import io.peftplatform.llama.checkpoint.CheckpointWriter;
import io.peftplatform.llama.checkpoint.Presets;
import io.peftplatform.safetensors.DType;
import io.peftplatform.storage.ObjectStore;
import io.peftplatform.storage.ScratchDirectories;
import io.peftplatform.training.CancellationToken;
import io.peftplatform.training.TrainingRun;
import io.peftplatform.training.spec.AdapterMethod;
import io.peftplatform.training.spec.RunSpec;
import io.peftplatform.worker.config.WorkerConfig;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jboss.logging.Logger;

/**
 * At start-up, in a background thread, the first job's path is run once on made-up inputs, so that the
 * first job does not pay for loading classes, native libraries and compiling: object storage's put, list,
 * get and delete on a key of the worker's own, then a whole run of two LoRA steps — a tiny random checkpoint
 * with its generated tokenizer read from a directory, a JSONL file read and tokenized, the model assembled,
 * trained and its adapter written — as {@link JobRunner} does it ({@code peft.warm-up}, on by default).
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
      storage();
      warmUp();
    }, "training-warm-up");
    t.setDaemon(true);
    t.setPriority(Thread.MIN_PRIORITY);
    t.start();
  }

  /** The storage client's request paths that a job takes, on an object of this worker's that is removed again. */
  private void storage() {
    String key = ".warm-up/" + config.workerId();
    Path dir = null;
    try {
      dir = Files.createTempDirectory("peft-warm-up");
      Path file = Files.writeString(dir.resolve("object"), "warm-up\n");
      store.put(key, file);
      store.list(key);
      store.get(key, dir.resolve("copy"));
      store.delete(key);
    } catch (IOException | RuntimeException ex) {
      LOG.debugf("warm-up: object storage not reachable yet (%s)", ex.getMessage());
    } finally {
      if (dir != null) {
        ScratchDirectories.deleteQuietly(dir);
      }
    }
  }

  /** @return whether the run went through (a failure only costs the first job time) */
  static boolean warmUp() {
    long start = System.nanoTime();
    Path dir = null;
    try {
      dir = Files.createTempDirectory("peft-warm-up");
      Path model = dir.resolve("model");
      CheckpointWriter.writeRandom(model, Presets.get("tiny"), 0, DType.F32, 0);
      StringBuilder lines = new StringBuilder();
      for (int i = 0; i < 16; i++) {
        lines.append("{\"prompt\": \"Count to ").append(i).append(":\", \"completion\": \" ").append(i).append(".\"}\n");
      }
      Path data = Files.writeString(dir.resolve("warm-up.jsonl"), lines, StandardCharsets.UTF_8);
      RunSpec defaults = RunSpec.defaults(AdapterMethod.LORA);
      RunSpec spec = new RunSpec(defaults.adapter(), defaults.training().withSteps(1, 2), defaults.data(), defaults.objective());
      TrainingRun.prepare(spec, model, "warm-up", new TrainingRun.DataFile("warm-up", data, "warm-up"), null, dir.resolve("output"))
          .run(progress -> { }, new CancellationToken(), null, null);
      LOG.infof("training path warmed up in %d ms", (System.nanoTime() - start) / 1_000_000);
      return true;
    } catch (IOException | RuntimeException | LinkageError ex) {
      LOG.warnf("warm-up failed (the first job will start slower): %s", ex.toString());
      return false;
    } finally {
      if (dir != null) {
        ScratchDirectories.deleteQuietly(dir);
      }
    }
  }
}

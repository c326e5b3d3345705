package io.peftplatform.worker.service;

import io.peftplatform.llama.checkpoint.Presets;
import io.peftplatform.training.bench.TrainBenchmark;
import io.peftplatform.training.spec.AdapterMethod;
import io.peftplatform.training.spec.AdapterSpec;
import io.peftplatform.worker.config.WorkerConfig;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

/**
 * At start-up, two LoRA steps on a tiny random model in a background thread: ND4J's natives are loaded
 * and the training path compiled before the first job arrives, which then starts training in about the
 * time its model and data take to fetch ({@code peft.warm-up}, on by default).
 */
@ApplicationScoped
public class WorkerWarmUp {
  private static final Logger LOG = Logger.getLogger(WorkerWarmUp.class);

  @Inject WorkerConfig config;

  void onStart(@Observes StartupEvent e) {
    if (!config.warmUp()) {
      return;
    }
    Thread t = new Thread(WorkerWarmUp::warmUp, "training-warm-up");
    t.setDaemon(true);
    t.setPriority(Thread.MIN_PRIORITY);
    t.start();
  }

  static void warmUp() {
    long start = System.nanoTime();
    try {
      TrainBenchmark.run(Presets.get("tiny"), AdapterSpec.defaults(AdapterMethod.LORA), 2, 16, 0, 2, 0);
      LOG.infof("training path warmed up in %d ms", (System.nanoTime() - start) / 1_000_000);
    } catch (RuntimeException | LinkageError ex) {
      LOG.warnf("warm-up failed (the first job will start slower): %s", ex.toString());
    }
  }
}

package io.peftplatform.worker.service;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.peftplatform.training.TrainingProgress;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One series per job this worker is training, tagged {@code job_id} (not {@code job}: Prometheus gives every series a {@code job} of its own) and
 * {@code tenant}, removed when the job
 * leaves the worker: {@code peft_training_step_seconds} (the last step's wall time),
 * {@code peft_training_tokens_per_second} (over the run so far), {@code peft_training_loss} (the last
 * step's training loss) and {@code peft_training_progress_ratio} (steps done of the run's total).
 */
@ApplicationScoped
public class TrainingMetrics {
  /** The latest numbers of one job; the gauges read them. */
  static final class Job {
    volatile long lastStepNanos; // 0 before the first step: its time would include the run's preparation
    volatile double stepSeconds = Double.NaN;
    volatile double tokensPerSecond = Double.NaN;
    volatile double loss = Double.NaN;
    volatile double progress;
    List<Meter> meters = List.of();
  }

  @Inject MeterRegistry registry;

  private final Map<String, Job> jobs = new ConcurrentHashMap<>();

  void started(String jobId, String tenant) {
    ended(jobId); // a gauge registered again under the same id would keep reading the old numbers
    Job j = new Job();
    Tags tags = Tags.of("job_id", jobId, "tenant", tenant);
    j.meters = List.of(
        Gauge.builder("peft.training.step", j, x -> x.stepSeconds).tags(tags).baseUnit("seconds")
            .description("Wall time of the job's last training step").register(registry),
        Gauge.builder("peft.training.tokens.per.second", j, x -> x.tokensPerSecond).tags(tags)
            .description("Tokens a second, over the run so far").register(registry),
        Gauge.builder("peft.training.loss", j, x -> x.loss).tags(tags).description("The last step's training loss").register(registry),
        Gauge.builder("peft.training.progress", j, x -> x.progress).tags(tags).baseUnit("ratio")
            .description("Steps done of the run's total").register(registry));
    jobs.put(jobId, j);
  }

  void step(String jobId, TrainingProgress p) {
    Job j = jobs.get(jobId);
    if (j == null) {
      return;
    }
    long now = System.nanoTime();
    if (j.lastStepNanos != 0) {
      j.stepSeconds = (now - j.lastStepNanos) / 1e9;
    }
    j.lastStepNanos = now;
    j.tokensPerSecond = p.tokensPerSecond();
    j.loss = p.trainLoss();
    j.progress = p.totalSteps() == 0 ? 0 : (double) p.step() / p.totalSteps();
  }

  void ended(String jobId) {
    Job j = jobs.remove(jobId);
    if (j != null) {
      j.meters.forEach(registry::remove);
    }
  }
}

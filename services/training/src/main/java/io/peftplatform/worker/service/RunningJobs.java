package io.peftplatform.worker.service;

import io.peftplatform.events.EventCodec;
import io.peftplatform.events.JobHeartbeat;
import io.peftplatform.events.Topics;
import io.peftplatform.service.kafka.EventPublisher;
import io.peftplatform.worker.config.WorkerConfig;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The jobs this worker runs and when each last moved (a phase begun, a step done); each has its metrics
 * ({@link TrainingMetrics}) while it is here. Their heartbeats go out
 * from here every few seconds, and the liveness check asks it whether a job has stopped moving (a worker
 * that hangs is restarted, and its job taken over, instead of holding the job forever).
 */
@ApplicationScoped
public class RunningJobs {
  /** What a job is doing and since when. */
  record Activity(String tenant, String phase, int step, long movedAtNanos) {}

  @Inject EventPublisher events;
  @Inject WorkerConfig config;
  @Inject TrainingMetrics metrics;

  private final Map<String, Activity> jobs = new ConcurrentHashMap<>();

  void started(String jobId, String tenant) {
    jobs.put(jobId, new Activity(tenant, "preparing", 0, System.nanoTime()));
    metrics.started(jobId, tenant);
  }

  void phase(String jobId, String phase) {
    jobs.computeIfPresent(jobId, (id, a) -> new Activity(a.tenant(), phase, a.step(), System.nanoTime()));
  }

  void step(String jobId, int step) {
    jobs.computeIfPresent(jobId, (id, a) -> new Activity(a.tenant(), "training", step, System.nanoTime()));
  }

  void ended(String jobId) {
    jobs.remove(jobId);
    metrics.ended(jobId);
  }

  /**
   * A job whose training has not done a step for longer than the stall timeout, if any: the worker is
   * stuck. Downloads and uploads are not judged here (a large model on a slow store may take long; their
   * calls have timeouts and retry windows of their own).
   */
  public Optional<String> stalled() {
    long limit = config.stallTimeout().toNanos();
    long now = System.nanoTime();
    return jobs.entrySet().stream().filter(e -> e.getValue().phase().equals("training") && now - e.getValue().movedAtNanos() > limit)
        .map(e -> e.getKey() + " has not moved for " + Duration.ofNanos(now - e.getValue().movedAtNanos()).toSeconds() + " s ("
            + e.getValue().phase() + ")")
        .findFirst();
  }

  /** Tells the jobs service each running job still has a worker (best effort: a lost beat is not retried). */
  @Scheduled(every = "${peft.heartbeat-interval:10s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
  void beat() {
    jobs.forEach((id, a) -> events.offer(Topics.JOB_EVENTS,
        new JobHeartbeat(EventCodec.newId(), Instant.now(), id, a.tenant(), config.workerId(), a.phase(), a.step())));
  }
}

package io.peftplatform.worker.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.peftplatform.worker.config.WorkerConfig;
import io.peftplatform.worker.health.WorkerLiveness;
import java.lang.reflect.Proxy;
import java.time.Duration;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.junit.jupiter.api.Test;

/** A worker whose training stops doing steps is not live; one that is slow to download still is. */
class RunningJobsTest {
  private static RunningJobs running(Duration stallTimeout) {
    RunningJobs r = new RunningJobs();
    r.config = (WorkerConfig) Proxy.newProxyInstance(WorkerConfig.class.getClassLoader(), new Class<?>[] {WorkerConfig.class},
        (proxy, method, args) -> switch (method.getName()) {
          case "stallTimeout" -> stallTimeout;
          case "workerId" -> "w";
          default -> throw new UnsupportedOperationException(method.getName());
        });
    r.metrics = new TrainingMetrics();
    r.metrics.registry = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    return r;
  }

  @Test
  void trainingThatStopsDoingStepsTurnsLivenessDown() throws Exception {
    RunningJobs r = running(Duration.ofMillis(200));
    WorkerLiveness liveness = new WorkerLiveness(r);
    r.started("ftjob-a", "t");
    Thread.sleep(300);
    assertThat(r.stalled()).as("preparing (downloading) is not judged").isEmpty();
    r.phase("ftjob-a", "training");
    r.step("ftjob-a", 1);
    assertThat(liveness.call().getStatus()).isEqualTo(HealthCheckResponse.Status.UP);
    Thread.sleep(300);
    assertThat(r.stalled()).hasValueSatisfying(s -> assertThat(s).startsWith("ftjob-a has not moved for"));
    assertThat(liveness.call().getStatus()).isEqualTo(HealthCheckResponse.Status.DOWN);
    r.step("ftjob-a", 2);
    assertThat(liveness.call().getStatus()).isEqualTo(HealthCheckResponse.Status.UP);
    assertThat(r.metrics.registry.find("peft.training.loss").tag("job_id", "ftjob-a").gauge()).as("the job's series").isNotNull();
    r.ended("ftjob-a");
    assertThat(r.stalled()).isEmpty();
    assertThat(r.metrics.registry.find("peft.training.loss").gauges()).as("gone with the job").isEmpty();
  }
}

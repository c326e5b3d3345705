package io.peftplatform.worker.health;

import io.peftplatform.worker.service.RunningJobs;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;

/**
 * Down when a job this worker runs has stopped moving for longer than {@code peft.stall-timeout}: the
 * process is stuck, and whoever supervises it (Kubernetes, {@code peft up}) restarts it; the job is then
 * taken over from its last checkpoint.
 */
@Liveness
@ApplicationScoped
public class WorkerLiveness implements HealthCheck {
  private final RunningJobs running;

  @Inject
  public WorkerLiveness(RunningJobs running) {
    this.running = running;
  }

  @Override
  public HealthCheckResponse call() {
    var stalled = running.stalled();
    return stalled.isPresent()
        ? HealthCheckResponse.named("jobs-moving").down().withData("stalled", stalled.get()).build()
        : HealthCheckResponse.up("jobs-moving");
  }
}

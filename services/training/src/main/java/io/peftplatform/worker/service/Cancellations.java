package io.peftplatform.worker.service;

import io.peftplatform.training.CancellationToken;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Jobs asked to stop (from peft.job-control), the tokens of the jobs running here, and jobs preempted
 * because their command's partition moved to another worker (which resumes them from their checkpoint).
 */
@ApplicationScoped
public class Cancellations {
  private final Set<String> requested = ConcurrentHashMap.newKeySet();
  private final Map<String, CancellationToken> running = new ConcurrentHashMap<>();
  private final Map<String, Integer> partitions = new ConcurrentHashMap<>();
  private final Set<String> preempted = ConcurrentHashMap.newKeySet();

  public void request(String jobId) {
    requested.add(jobId);
    CancellationToken token = running.get(jobId);
    if (token != null) {
      token.cancel();
    }
  }

  public boolean isRequested(String jobId) {
    return requested.contains(jobId);
  }

  /**
   * The token a running job checks between steps; already cancelled if a request came first.
   *
   * @param partition the job-commands partition its command came from
   */
  public CancellationToken register(String jobId, int partition) {
    CancellationToken token = new CancellationToken();
    preempted.remove(jobId);
    partitions.put(jobId, partition);
    running.put(jobId, token);
    if (requested.contains(jobId)) {
      token.cancel();
    }
    return token;
  }

  public void unregister(String jobId) {
    running.remove(jobId);
    partitions.remove(jobId);
    preempted.remove(jobId);
  }

  /** Stops the jobs whose commands came from partitions this worker no longer owns. */
  public void preempt(Set<Integer> revoked) {
    partitions.forEach((jobId, partition) -> {
      if (revoked.contains(partition)) {
        preempted.add(jobId);
        CancellationToken token = running.get(jobId);
        if (token != null) {
          token.cancel();
        }
      }
    });
  }

  /** Whether the job's partition moved to another worker (which runs it from now on). */
  public boolean isPreempted(String jobId) {
    return preempted.contains(jobId);
  }
}

package io.peftplatform.worker.service;

import io.peftplatform.training.CancellationToken;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Jobs asked to stop or to pause (from peft.job-control), the tokens of the jobs running here, and jobs preempted
 * because their command's partition moved to another worker (which resumes them from their checkpoint).
 */
@ApplicationScoped
public class Cancellations {
  private final Set<String> requested = ConcurrentHashMap.newKeySet();
  private final Set<String> pauses = ConcurrentHashMap.newKeySet();
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

  /** The job is to stop at its next step with a checkpoint there, until it is resumed. */
  public void requestPause(String jobId) {
    pauses.add(jobId);
    CancellationToken token = running.get(jobId);
    if (token != null) {
      token.pause();
    }
  }

  /** The job's pause no longer holds (a later pause or cancel may follow; the control topic keeps the last). */
  public void resume(String jobId) {
    pauses.remove(jobId);
  }

  /**
   * Whether the job is to pause; asked once the control topic has been read to its end (a resume
   * published just before the job's new command must have been seen).
   */
  public boolean isPauseRequested(String jobId) {
    return pauses.contains(jobId);
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

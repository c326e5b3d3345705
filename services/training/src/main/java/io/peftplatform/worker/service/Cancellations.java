package io.peftplatform.worker.service;

import io.peftplatform.training.CancellationToken;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** Jobs asked to stop (from peft.job-control), and the tokens of the jobs running here. */
@ApplicationScoped
public class Cancellations {
  private final Set<String> requested = ConcurrentHashMap.newKeySet();
  private final Map<String, CancellationToken> running = new ConcurrentHashMap<>();

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

  /** The token a running job checks between steps; already cancelled if a request came first. */
  public CancellationToken register(String jobId) {
    CancellationToken token = new CancellationToken();
    running.put(jobId, token);
    if (requested.contains(jobId)) {
      token.cancel();
    }
    return token;
  }

  public void unregister(String jobId) {
    running.remove(jobId);
  }
}

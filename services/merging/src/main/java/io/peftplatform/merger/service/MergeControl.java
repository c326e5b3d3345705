package io.peftplatform.merger.service;

import io.peftplatform.events.MergeCancelRequested;
import io.peftplatform.events.PlatformEvent;
import io.peftplatform.events.Topics;
import io.peftplatform.service.kafka.ControlTopic;
import io.peftplatform.training.CancellationToken;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Merges asked to stop (peft.merge-control, read from its start by every worker) and the tokens of the
 * merges running here: a running learned merge stops after its current step; one not started yet is
 * skipped.
 */
@ApplicationScoped
public class MergeControl {
  @ConfigProperty(name = "kafka.bootstrap.servers")
  String bootstrap;

  private final Set<String> requested = ConcurrentHashMap.newKeySet();
  private final Map<String, CancellationToken> running = new ConcurrentHashMap<>();
  private ControlTopic topic;

  void start(@Observes StartupEvent e) {
    topic = new ControlTopic(bootstrap, Topics.MERGE_CONTROL, this::handle);
    topic.start();
  }

  void stop(@Observes ShutdownEvent e) {
    if (topic != null) {
      topic.stop();
    }
  }

  private void handle(PlatformEvent e) {
    if (e instanceof MergeCancelRequested c) {
      requested.add(c.aggregateId());
      CancellationToken token = running.get(c.aggregateId());
      if (token != null) {
        token.cancel();
      }
    }
  }

  /** Blocks until every request published before this call has been seen (false on timeout). */
  public boolean awaitCaughtUp(Duration timeout) {
    return topic.awaitCaughtUp(timeout);
  }

  /** The token a merge checks between steps; already cancelled if the request came first. */
  public CancellationToken register(String mergeId) {
    CancellationToken token = new CancellationToken();
    running.put(mergeId, token);
    if (requested.contains(mergeId)) {
      token.cancel();
    }
    return token;
  }

  public void unregister(String mergeId) {
    running.remove(mergeId);
  }
}

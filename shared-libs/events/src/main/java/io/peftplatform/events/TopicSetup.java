package io.peftplatform.events;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * Creates the platform's topics if missing: three partitions each (so several workers share jobs), the
 * control topics compacted by job and merge id. Every service calls it at startup; whichever comes first creates.
 */
public final class TopicSetup {
  private TopicSetup() {}

  public static void ensure(String bootstrapServers, int partitions, short replication) {
    List<NewTopic> topics = List.of(
        // the control topics first: a producer publishing to one before it exists would have the broker create it
        // with its defaults (several partitions, not compacted)
        new NewTopic(Topics.JOB_CONTROL, 1, replication).configs(Map.of("cleanup.policy", "compact")),
        new NewTopic(Topics.MERGE_CONTROL, 1, replication).configs(Map.of("cleanup.policy", "compact")),
        new NewTopic(Topics.JOB_COMMANDS, partitions, replication),
        new NewTopic(Topics.JOB_EVENTS, partitions, replication),
        new NewTopic(Topics.ARTIFACT_EVENTS, partitions, replication),
        new NewTopic(Topics.MERGE_COMMANDS, partitions, replication),
        new NewTopic(Topics.MERGE_EVENTS, partitions, replication));
    // Short timeouts: a broker that is away is reported within seconds (the caller tries again later).
    Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
        AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000, AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000));
    try {
      for (NewTopic t : topics) {
        try {
          admin.createTopics(List.of(t)).all().get(15, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw new IllegalStateException("cannot create topic " + t.name() + ": " + e.getCause().getMessage(), e);
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("Kafka at " + bootstrapServers + " did not answer", e);
    } finally {
      admin.close(java.time.Duration.ofSeconds(2));
    }
  }
}

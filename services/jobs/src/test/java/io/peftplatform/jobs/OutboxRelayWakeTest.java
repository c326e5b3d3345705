package io.peftplatform.jobs;

import static io.peftplatform.jobs.TestResources.keyFor;
import static org.assertj.core.api.Assertions.assertThat;

import io.peftplatform.events.JobSubmitted;
import io.peftplatform.events.Topics;
import io.peftplatform.testsupport.EventLog;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The outbox relay runs when a transaction that added rows commits, not only at its next poll: with the
 * scheduler off, so that no poll runs at all, a new job's command still reaches Kafka (the scheduler's
 * finest interval is 1 s, so waiting for the poll cost every event half a second on average).
 */
@QuarkusTest
@TestProfile(OutboxRelayWakeTest.NoScheduler.class)
class OutboxRelayWakeTest {
  public static class NoScheduler implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("quarkus.scheduler.enabled", "false");
    }
  }

  @Test
  void aCommittedRowIsSentWithoutWaitingForThePoll() {
    String key = keyFor("woken");
    JobLifecycleTest.Artifacts a = JobLifecycleTest.artifacts("woken", "ready");
    String job = JobLifecycleTest.createJob(key, a);
    assertThat(EventLog.await(Topics.JOB_COMMANDS, JobSubmitted.class, job, 1, Duration.ofSeconds(30))).hasSize(1);
  }
}

package io.peftplatform.artifacts;

import static org.assertj.core.api.Assertions.assertThat;

import io.peftplatform.events.DatasetChanged;
import io.peftplatform.events.EventCodec;
import io.peftplatform.events.ModelChanged;
import io.peftplatform.events.Topics;
import io.peftplatform.service.outbox.Outbox;
import io.peftplatform.service.outbox.OutboxEvent;
import io.peftplatform.testsupport.EventLog;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** One event the broker will never take must not hold up the events written after it. */
@QuarkusTest
class OutboxParkingTest {
  @Inject Outbox outbox;

  @Test
  void aRowTheBrokerRefusesForGoodIsParkedAndTheRowsAfterItAreSent() {
    String huge = "model-" + System.nanoTime();
    String after = "file-" + System.nanoTime();
    QuarkusTransaction.requiringNew().run(() -> {
      // Over the broker's 1 MB record limit.
      outbox.add(Topics.ARTIFACT_EVENTS, new ModelChanged(EventCodec.newId(), Instant.now(), huge, "parking", "n".repeat(2 << 20),
          "validating", null, List.of(), null));
      outbox.add(Topics.ARTIFACT_EVENTS, new DatasetChanged(EventCodec.newId(), Instant.now(), after, "parking", "d", "ready", "text", 1,
          null, null));
    });
    assertThat(EventLog.await(Topics.ARTIFACT_EVENTS, DatasetChanged.class, after, 1, Duration.ofSeconds(30))).hasSize(1);
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> QuarkusTransaction.requiringNew().call(() ->
        OutboxEvent.<OutboxEvent>find("aggregateId", huge).firstResult().parkedAt != null));
    OutboxEvent parked = QuarkusTransaction.requiringNew().call(() -> OutboxEvent.<OutboxEvent>find("aggregateId", huge).firstResult());
    assertThat(parked.publishedAt).isNull();
    assertThat(parked.lastError).contains("RecordTooLarge");
  }
}

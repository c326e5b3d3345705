package io.peftplatform.merger.messaging;

import io.peftplatform.events.EventCodec;
import io.peftplatform.events.MergeRequested;
import io.peftplatform.events.PlatformEvent;
import io.peftplatform.merger.service.MergeRunner;
import io.smallrye.reactive.messaging.annotations.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Reads peft.merge-commands, one merge at a time per worker. A message that is not an event fails here
 * and goes to the dead-letter topic; the offset is committed once the merge's outcome is published.
 */
@ApplicationScoped
public class MergeCommandsConsumer {
  @Inject MergeRunner runner;

  @Incoming("merge-commands")
  @Blocking
  public void consume(String payload) {
    PlatformEvent event = EventCodec.decode(payload);
    if (event instanceof MergeRequested request) {
      runner.run(request);
    }
  }
}

package io.peftplatform.artifacts.messaging;

import io.peftplatform.artifacts.service.MergeService;
import io.peftplatform.events.EventCodec;
import io.peftplatform.events.MergeFailed;
import io.peftplatform.events.MergeSucceeded;
import io.peftplatform.events.PlatformEvent;
import io.smallrye.reactive.messaging.annotations.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/** Reads peft.merge-events: a merge's outcome, which registers its output or records why it failed. */
@ApplicationScoped
public class MergeEventsConsumer {
  @Inject MergeService merges;

  @Incoming("merge-events")
  @Blocking
  public void consume(String payload) {
    PlatformEvent event = EventCodec.decode(payload);
    if (event instanceof MergeSucceeded succeeded) {
      merges.onSucceeded(succeeded);
    } else if (event instanceof MergeFailed failed) {
      merges.onFailed(failed);
    }
  }
}

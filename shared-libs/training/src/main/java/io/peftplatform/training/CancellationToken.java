package io.peftplatform.training;

import java.util.concurrent.atomic.AtomicBoolean;

/** Asks a running trainer to stop after the current step. */
public final class CancellationToken {
  private final AtomicBoolean cancelled = new AtomicBoolean();

  public void cancel() {
    cancelled.set(true);
  }

  public boolean isCancelled() {
    return cancelled.get();
  }
}

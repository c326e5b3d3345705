package io.peftplatform.training;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Asks a running trainer to stop after the current step: cancelled (its progress since the last
 * checkpoint is not kept), or paused (a checkpoint is saved at that step first, to resume from).
 */
public final class CancellationToken {
  private final AtomicBoolean cancelled = new AtomicBoolean();
  private final AtomicBoolean paused = new AtomicBoolean();

  public void cancel() {
    cancelled.set(true);
  }

  public void pause() {
    paused.set(true);
    cancelled.set(true);
  }

  public boolean isCancelled() {
    return cancelled.get();
  }

  /** Whether the stop is a pause: the trainer checkpoints where it stops. */
  public boolean isPaused() {
    return paused.get();
  }
}

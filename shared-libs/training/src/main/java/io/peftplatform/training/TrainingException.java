package io.peftplatform.training;

/** A training run that cannot start or continue as asked; the message says why. */
public class TrainingException extends RuntimeException {
  public TrainingException(String message) {
    super(message);
  }
}

package io.peftplatform.llama.config;

/** A model directory or request the engine cannot serve; the message says what and where. */
public class ModelException extends RuntimeException {
  public ModelException(String message) {
    super(message);
  }

  public ModelException(String message, Throwable cause) {
    super(message, cause);
  }
}

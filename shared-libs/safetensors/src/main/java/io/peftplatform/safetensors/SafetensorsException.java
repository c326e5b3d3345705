package io.peftplatform.safetensors;

/** A checkpoint file that is missing, malformed or does not hold what was asked of it. */
public class SafetensorsException extends RuntimeException {
  public SafetensorsException(String message) {
    super(message);
  }

  public SafetensorsException(String message, Throwable cause) {
    super(message, cause);
  }
}

package io.peftplatform.adapters;

/** An adapter file or request that cannot be used; the message names the file and what is wrong. */
public class AdapterException extends RuntimeException {
  public AdapterException(String message) {
    super(message);
  }

  public AdapterException(String message, Throwable cause) {
    super(message, cause);
  }
}

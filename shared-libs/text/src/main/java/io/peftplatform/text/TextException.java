package io.peftplatform.text;

/** A tokenizer, template or data file that cannot be used as given; the message says why. */
public class TextException extends RuntimeException {
  public TextException(String message) {
    super(message);
  }

  public TextException(String message, Throwable cause) {
    super(message, cause);
  }
}

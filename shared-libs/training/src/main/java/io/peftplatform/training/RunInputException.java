package io.peftplatform.training;

/**
 * A run's input cannot be used: the model, a data file, or the spec against them. {@code input} names
 * which, as the caller named it ({@code model}, {@code training_file}, a path …); the message says what
 * is wrong, line numbers included.
 */
public final class RunInputException extends TrainingException {
  public static final String MODEL = "model";
  public static final String SPEC = "spec";

  private final String input;

  public RunInputException(String input, String message) {
    super(message);
    this.input = input;
  }

  public String input() {
    return input;
  }
}

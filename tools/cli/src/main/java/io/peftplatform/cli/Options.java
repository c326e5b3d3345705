package io.peftplatform.cli;

/** Checks of option values that picocli's types cannot express. */
final class Options {
  private Options() {}

  static void requirePositive(String option, long value) {
    if (value < 1) {
      throw new IllegalArgumentException(option + " must be at least 1, got " + value);
    }
  }
}

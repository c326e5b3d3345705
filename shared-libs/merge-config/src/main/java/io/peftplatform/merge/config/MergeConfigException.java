package io.peftplatform.merge.config;

/** A merge configuration that cannot run as written; the message names the field. */
public final class MergeConfigException extends IllegalArgumentException {
  public MergeConfigException(String message) {
    super(message);
  }
}

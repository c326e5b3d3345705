package io.peftplatform.infra;

/** A server this library runs as a child process (Kafka, the S3 server, PostgreSQL), to supervise or to break. */
public interface EmbeddedServer extends AutoCloseable {
  boolean isRunning();

  /** Kills it at once (SIGKILL), as a crash would. */
  void kill();

  /** Stops it (or releases what is left of it after it died). */
  @Override
  void close();
}

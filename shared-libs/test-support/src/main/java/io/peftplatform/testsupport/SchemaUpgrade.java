package io.peftplatform.testsupport;

import io.peftplatform.infra.Postgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.UUID;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationVersion;

/**
 * A service's Flyway migrations applied two ways, as its releases meet them: to an empty database (a
 * fresh install), and to a database where a release left it — its own migrations ({@code db/migration})
 * and the shared messaging ones ({@code db/messaging}) up to that release's — then upgraded.
 * Both end in the same schema ({@link #describe}), and rows written by the previous release survive.
 */
public final class SchemaUpgrade {
  public static final String OWN = "classpath:db/migration";
  public static final String MESSAGING = "classpath:db/messaging";

  private final String fresh;
  private final String upgraded;
  private final String applies;

  private SchemaUpgrade(String fresh, String upgraded, String applies) {
    this.fresh = fresh;
    this.upgraded = upgraded;
    this.applies = applies;
  }

  /**
   * Two new databases for {@code service}: one migrated from empty, one left where the release named
   * left it — its own migrations up to {@code ownVersion}, the messaging ones up to {@code messagingVersion}.
   */
  public static SchemaUpgrade fromRelease(String service, String ownVersion, String messagingVersion) {
    Postgres pg = SharedInfra.postgres();
    String suffix = UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    String fresh = pg.database(service + "_fresh_" + suffix);
    String upgraded = pg.database(service + "_upgraded_" + suffix);
    flyway(fresh, null, OWN, MESSAGING).migrate();
    flyway(upgraded, MigrationVersion.fromVersion(ownVersion), OWN).migrate();
    flyway(upgraded, MigrationVersion.fromVersion(messagingVersion), MESSAGING).migrate();
    String applies = String.join(", ", java.util.stream.Stream.of(flyway(upgraded, null, OWN, MESSAGING).info().pending())
        .map(m -> "V" + m.getVersion()).toList());
    if (applies.isEmpty()) {
      throw new IllegalStateException(service + " at V" + ownVersion + " + V" + messagingVersion + " is the current release: nothing to upgrade");
    }
    return new SchemaUpgrade(fresh, upgraded, applies);
  }

  /** The migrations the upgrade applies. */
  public String applies() {
    return applies;
  }

  /** A connection to the database at the previous release (before {@link #upgrade}), or after it. */
  public Connection upgradedDatabase() throws SQLException {
    return DriverManager.getConnection(upgraded, Postgres.USER, "postgres");
  }

  /** Applies what the previous release lacks, as the new release does at its start (out of order allowed). */
  public void upgrade() {
    flyway(upgraded, null, OWN, MESSAGING).migrate();
  }

  public SortedMap<String, String> freshSchema() throws SQLException {
    return describe(fresh);
  }

  public SortedMap<String, String> upgradedSchema() throws SQLException {
    return describe(upgraded);
  }

  static Flyway flyway(String url, MigrationVersion target, String... locations) {
    // A step with one location leaves the other's applied migrations unresolved here: not an error.
    var config = Flyway.configure().dataSource(url, Postgres.USER, "postgres").locations(locations).outOfOrder(true)
        .ignoreMigrationPatterns("*:missing");
    if (target != null) {
      config.target(target);
    }
    return config.load();
  }

  /**
   * The public schema: every column (type, nullability, default), index and constraint, keyed so that two
   * databases compare equal when an application sees no difference (Flyway's own history table left out).
   */
  static SortedMap<String, String> describe(String url) throws SQLException {
    SortedMap<String, String> out = new TreeMap<>();
    try (Connection c = DriverManager.getConnection(url, Postgres.USER, "postgres"); Statement s = c.createStatement()) {
      try (ResultSet r = s.executeQuery("SELECT table_name, column_name, data_type, character_maximum_length, is_nullable, column_default"
          + " FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'flyway_schema_history'")) {
        while (r.next()) {
          out.put("column " + r.getString(1) + "." + r.getString(2),
              r.getString(3) + "(" + r.getString(4) + ") nullable=" + r.getString(5) + " default=" + r.getString(6));
        }
      }
      try (ResultSet r = s.executeQuery("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
          + " AND tablename <> 'flyway_schema_history'")) {
        while (r.next()) {
          out.put("index " + r.getString(1) + "." + r.getString(2), r.getString(3));
        }
      }
      try (ResultSet r = s.executeQuery("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
          + " WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> 'flyway_schema_history'")) {
        while (r.next()) {
          out.put("constraint " + r.getString(1) + "." + r.getString(2), r.getString(3));
        }
      }
    }
    return out;
  }
}

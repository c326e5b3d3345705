package io.peftplatform.testsupport;

import io.peftplatform.infra.Postgres;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/**
 * A real PostgreSQL for @QuarkusTest: a database named by the "database" init argument (the service's),
 * on a server shared by the JVM. Sets quarkus.datasource.*.
 */
public class PostgresTestResource implements QuarkusTestResourceLifecycleManager {
  private String database = "peft";

  @Override
  public void init(Map<String, String> initArgs) {
    database = initArgs.getOrDefault("database", database);
  }

  @Override
  public Map<String, String> start() {
    Postgres pg = SharedInfra.postgres();
    return Map.of("quarkus.datasource.jdbc.url", pg.database(database), "quarkus.datasource.username", Postgres.USER,
        "quarkus.datasource.password", "postgres");
  }

  @Override
  public void stop() {
    // shared by every test class of the JVM; stops with it
  }
}

package io.peftplatform.artifacts;

import static org.assertj.core.api.Assertions.assertThat;

import io.peftplatform.testsupport.SchemaUpgrade;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/**
 * The artifacts database upgraded from the previous release (artifacts V5, messaging V1001: before
 * traces) ends in the schema of a fresh install, with the previous release's rows kept.
 */
class SchemaUpgradeTest {
  @Test
  void anUpgradeFromThePreviousReleaseEndsInTheFreshSchemaAndKeepsItsRows() throws Exception {
    SchemaUpgrade db = SchemaUpgrade.fromRelease("artifacts", "5", "1001");
    try (Connection c = db.upgradedDatabase(); Statement s = c.createStatement()) {
      s.execute("INSERT INTO merges (id, tenant, name, status, model_id, adapters, method, density, seed, output_type, output_id, created_at)"
          + " VALUES ('merge-old', 'acme', 'm', 'queued', 'model-x', '[{\"id\": \"adapter-a\", \"weight\": 1}]', 'ties', 0.5, 3, 'model',"
          + " 'model-merged-old', now())");
    }
    db.upgrade();

    assertThat(db.freshSchema()).containsKey("column merges.cancel_requested").containsKey("constraint merges.merges_pkey");
    assertThat(db.upgradedSchema()).as("upgraded to %s", db.applies()).isEqualTo(db.freshSchema());
    try (Connection c = db.upgradedDatabase(); Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT status, method, density, adapters FROM merges WHERE id = 'merge-old'")) {
      assertThat(r.next()).isTrue();
      assertThat(r.getString(1)).isEqualTo("queued");
      assertThat(r.getString(2)).isEqualTo("ties");
      assertThat(r.getDouble(3)).isEqualTo(0.5);
      assertThat(r.getString(4)).contains("adapter-a");
    }
  }
}

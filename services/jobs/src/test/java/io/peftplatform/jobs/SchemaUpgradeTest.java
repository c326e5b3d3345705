package io.peftplatform.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.peftplatform.testsupport.SchemaUpgrade;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/**
 * The jobs database upgraded from the previous release (jobs V4, messaging V1001: before traces) ends in
 * the schema of a fresh install, with the previous release's rows kept.
 */
class SchemaUpgradeTest {
  @Test
  void anUpgradeFromThePreviousReleaseEndsInTheFreshSchemaAndKeepsItsRows() throws Exception {
    SchemaUpgrade db = SchemaUpgrade.fromRelease("jobs", "4", "1001");
    try (Connection c = db.upgradedDatabase(); Statement s = c.createStatement()) {
      s.execute("INSERT INTO jobs (id, tenant, status, model_id, training_file, method, hyperparameters, adapter, spec, seed, trained_steps,"
          + " created_at, updated_at) VALUES ('ftjob-old', 'acme', 'running', 'model-x', 'file-x',"
          + " '{\"type\": \"supervised\"}', '{\"n_epochs\": 3}', '{\"type\": \"lora\", \"rank\": 8}', '{}', 7, 12, now(), now())");
      s.execute("INSERT INTO outbox_events (event_id, topic, aggregate_id, type, payload, created_at)"
          + " VALUES ('ev-old', 'peft.job-commands', 'ftjob-old', 'JobSubmitted', '{}', now())");
    }
    db.upgrade();

    assertThat(db.freshSchema()).containsKey("column jobs.traceparent").containsKey("column outbox_events.traceparent").containsKey("index outbox_events.outbox_unpublished");
    assertThat(db.upgradedSchema()).as("upgraded to %s", db.applies()).isEqualTo(db.freshSchema());
    try (Connection c = db.upgradedDatabase(); Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT status, trained_steps, adapter, pause_requested FROM jobs WHERE id = 'ftjob-old'")) {
      assertThat(r.next()).isTrue();
      assertThat(r.getString(1)).isEqualTo("running");
      assertThat(r.getInt(2)).isEqualTo(12);
      assertThat(r.getString(3)).contains("\"rank\": 8");
      assertThat(r.getBoolean(4)).isFalse();
    }
    try (Connection c = db.upgradedDatabase(); Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT count(*) FROM outbox_events WHERE event_id = 'ev-old' AND published_at IS NULL")) {
      r.next();
      assertThat(r.getInt(1)).as("an unsent event is still sent after the upgrade").isEqualTo(1);
    }
  }
}

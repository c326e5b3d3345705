package io.peftplatform.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** values.schema.json: every value described, unknown and mistyped values refused by Helm before anything renders. */
class ValuesSchemaTest {
  static final JsonNode SCHEMA = read(Charts.DIR.resolve("values.schema.json"));
  static final JsonNode VALUES = read(Charts.DIR.resolve("values.yaml"));

  static JsonNode read(Path file) {
    try {
      return Charts.YAML.readTree(file.toFile()); // YAML is a superset of JSON
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void theSchemaDescribesEveryValueAndValuesYamlGivesEveryPropertyADefault() {
    assertThat(SCHEMA.path("additionalProperties").asBoolean(true)).isFalse();
    List<String> problems = new ArrayList<>();
    compare(VALUES, SCHEMA, "", problems);
    assertThat(problems).isEmpty();
  }

  /** Walks values.yaml and the schema together: objects with properties must match key for key. */
  private static void compare(JsonNode values, JsonNode schema, String path, List<String> problems) {
    schema = resolve(schema);
    if (!values.isObject() || !schema.has("properties")) {
      return;
    }
    if (schema.path("additionalProperties").asBoolean(true)) {
      problems.add(path + ": the schema allows unknown keys");
    }
    for (Map.Entry<String, JsonNode> e : values.properties()) {
      if (!schema.path("properties").has(e.getKey())) {
        problems.add(path + e.getKey() + ": not in the schema");
      } else {
        compare(e.getValue(), schema.path("properties").get(e.getKey()), path + e.getKey() + ".", problems);
      }
    }
    schema.path("properties").fieldNames().forEachRemaining(k -> {
      if (!values.has(k)) {
        problems.add(path + k + ": no default in values.yaml");
      }
    });
  }

  private static JsonNode resolve(JsonNode schema) {
    String ref = schema.path("$ref").asText("");
    return ref.startsWith("#/definitions/") ? SCHEMA.path("definitions").path(ref.substring("#/definitions/".length())) : schema;
  }

  @Test
  void anUnknownValueIsRefused() {
    assertThatThrownBy(() -> Charts.withBackends().set("nosuch", 1).call()).hasMessageContaining("nosuch");
    assertThatThrownBy(() -> Charts.withBackends().set("training.replica", 3).call()).hasMessageContaining("replica");
    assertThatThrownBy(() -> Charts.withBackends().set("monitoring.serviceMonitor.enable", true).call()).hasMessageContaining("enable");
  }

  @Test
  void aValueOfTheWrongTypeOrOutOfRangeIsRefused() {
    assertThatThrownBy(() -> Charts.withBackends().set("training.replicas", "many").call())
        .hasMessageContaining("training.replicas").hasMessageContaining("integer");
    assertThatThrownBy(() -> Charts.withBackends().set("networkPolicy.enabled", "yes").call()).hasMessageContaining("networkPolicy.enabled");
    assertThatThrownBy(() -> Charts.withBackends().set("training.concurrency", 0).call()).hasMessageContaining("training.concurrency");
    assertThatThrownBy(() -> Charts.withBackends().set("training.keda.minReplicaCount", 0).call())
        .hasMessageContaining("training.keda.minReplicaCount");
    assertThatThrownBy(() -> Charts.withBackends().set("image.pullPolicy", "Sometimes").call()).hasMessageContaining("image.pullPolicy");
    assertThatThrownBy(() -> Charts.withBackends().set("jobs.resources.limits.memory", "lots").call()).hasMessageContaining("memory");
    assertThatThrownBy(() -> Charts.withBackends().set("jobs.resources.limits.gpu", 1).call()).hasMessageContaining("limits");
    assertThatThrownBy(() -> Charts.withBackends().set("monitoring.serviceMonitor.interval", "30 seconds").call())
        .hasMessageContaining("interval");
    assertThatThrownBy(() -> Charts.withBackends().set("postgres.jobsUrl", "postgres://pg/jobs").call()).hasMessageContaining("jobsUrl");
  }

  @Test
  void resourcesMustHaveRequestsAndAMemoryLimit() {
    assertThatThrownBy(() -> Charts.withBackends().set("training.resources.limits", "null").call()).hasMessageContaining("limits");
    assertThatThrownBy(() -> Charts.withBackends().set("jobs.resources.limits.memory", "null").call()).hasMessageContaining("memory");
  }

  @Test
  void theValuesItShipsAndTheDefaultsPass() {
    assertThat(Charts.extraValuesFiles()).extracting(p -> p.getFileName().toString()).contains("values-production.yaml");
    assertThatCode(() -> Charts.withBackends().call()).doesNotThrowAnyException();
    for (Path file : Charts.extraValuesFiles()) {
      assertThatCode(() -> Charts.withBackends().withValuesFile(file).call()).as(file.toString()).doesNotThrowAnyException();
    }
  }
}

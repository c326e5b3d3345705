package io.peftplatform.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.yaml.snakeyaml.Yaml;

/** docker-compose.yml against what the services read and how they reach each other. */
class ComposeFileTest {
  static Map<String, Object> services;

  @BeforeAll
  @SuppressWarnings("unchecked")
  static void load() throws IOException {
    try (Reader in = Files.newBufferedReader(ServiceSettings.ROOT.resolve("docker-compose.yml"))) {
      Map<String, Object> compose = new Yaml().load(in);
      services = (Map<String, Object>) compose.get("services");
    }
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> service(String name) {
    return (Map<String, Object>) services.get(name);
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> env(String name) {
    return (Map<String, Object>) service(name).get("environment");
  }

  @ParameterizedTest
  @ValueSource(strings = {"jobs", "artifacts", "training", "merging"})
  void eachServiceGetsWhatItNeedsAndOnlyWhatItReads(String name) {
    Map<String, Object> env = env(name);
    assertThat(env.keySet()).containsAll(ServiceSettings.required(name));
    assertThat(ServiceSettings.readBy(name)).containsAll(env.keySet());
    @SuppressWarnings("unchecked")
    Map<String, Object> build = (Map<String, Object>) service(name).get("build");
    assertThat(build).containsEntry("context", "services").containsEntry("dockerfile", "Dockerfile");
    assertThat(((Map<?, ?>) build.get("args")).get("SERVICE")).isEqualTo(name);
  }

  @Test
  @SuppressWarnings("unchecked")
  void onlyThePublicApiIsPublishedAndItReachesTheOthersByName() {
    assertThat((List<Object>) service("jobs").get("ports")).containsExactly("${PEFT_PORT:-8080}:8080");
    assertThat(service("artifacts")).doesNotContainKey("ports");
    assertThat(service("training")).doesNotContainKey("ports").doesNotContainKey("container_name");
    assertThat(service("merging")).doesNotContainKey("ports").doesNotContainKey("container_name");
    assertThat(env("jobs")).containsEntry("PEFT_ARTIFACTS_URL", "http://artifacts:8082").containsEntry("PEFT_TRAINING_URL", "http://training:8083");
    assertThat(String.valueOf(env("jobs").get("PEFT_JOBS_DB_URL"))).endsWith("//postgres:5432/jobs");
    assertThat(String.valueOf(env("artifacts").get("PEFT_ARTIFACTS_DB_URL"))).endsWith("//postgres:5432/artifacts");
    assertThat(env("training")).containsEntry("PEFT_KAFKA_BOOTSTRAP", "kafka:9092");
  }

  @Test
  void thePostgresInitScriptCreatesEachServicesDatabase() throws IOException {
    String sql = Files.readString(ServiceSettings.ROOT.resolve("tools/compose/create-databases.sql"));
    assertThat(sql).contains("CREATE DATABASE jobs;").contains("CREATE DATABASE artifacts;");
  }

  /** Secrets have no working defaults, and MinIO is reachable from this machine only. */
  @Test
  @SuppressWarnings("unchecked")
  void secretsMustBeGivenAndStorageIsNotPublishedToOtherHosts() throws IOException {
    for (String name : List.of("jobs", "artifacts", "training")) {
      assertThat(String.valueOf(env(name).get("PEFT_INTERNAL_TOKEN"))).startsWith("${PEFT_INTERNAL_TOKEN:?");
    }
    for (String name : List.of("artifacts", "training", "merging")) {
      assertThat(String.valueOf(env(name).get("PEFT_S3_SECRET_KEY"))).startsWith("${MINIO_ROOT_PASSWORD:?");
    }
    assertThat(String.valueOf(env("minio").get("MINIO_ROOT_PASSWORD"))).startsWith("${MINIO_ROOT_PASSWORD:?");
    assertThat(String.valueOf(env("postgres").get("POSTGRES_PASSWORD"))).startsWith("${POSTGRES_PASSWORD:?");
    assertThat((List<Object>) service("minio").get("ports")).allSatisfy(p -> assertThat(String.valueOf(p)).startsWith("127.0.0.1:"));
    assertThat(service("postgres")).doesNotContainKey("ports");
    assertThat(service("kafka")).doesNotContainKey("ports");
    String compose = Files.readString(ServiceSettings.ROOT.resolve("docker-compose.yml"));
    assertThat(compose).doesNotContain("peft-secret").doesNotContain("compose-internal-token").doesNotContain(":-postgres}");
  }

  @Test
  void theEnvGeneratorWritesEverySecretTheFileAsksFor() throws Exception {
    Process p = new ProcessBuilder(ServiceSettings.ROOT.resolve("tools/compose/new-env").toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).isZero();
    assertThat(out).containsPattern("(?m)^PEFT_INTERNAL_TOKEN=[0-9a-f]{48}$").containsPattern("(?m)^MINIO_ROOT_PASSWORD=[0-9a-f]{32}$")
        .containsPattern("(?m)^POSTGRES_PASSWORD=[0-9a-f]{32}$");
  }
}

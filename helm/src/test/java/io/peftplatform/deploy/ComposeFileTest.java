package io.peftplatform.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.yaml.snakeyaml.Yaml;

/** docker-compose.yml against what the services read and how they reach each other. */
class ComposeFileTest {
  static Map<String, Object> services;

  @SuppressWarnings("unchecked")
  static synchronized Map<String, Object> services() {
    if (services == null) {
      try (Reader in = Files.newBufferedReader(ServiceSettings.ROOT.resolve("docker-compose.yml"))) {
        Map<String, Object> compose = new Yaml().load(in);
        services = (Map<String, Object>) compose.get("services");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return services;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> service(String name) {
    return (Map<String, Object>) services().get(name);
  }

  /** A service's bind mounts: the path in the container → the path in this repository. */
  @SuppressWarnings("unchecked")
  static Map<String, String> mounts(String name) {
    Map<String, String> out = new TreeMap<>();
    for (Object volume : (List<Object>) service(name).getOrDefault("volumes", List.of())) {
      String[] parts = String.valueOf(volume).split(":");
      if (parts[0].startsWith("./")) {
        out.put(parts[1], parts[0].substring(2));
      }
    }
    return out;
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

  /** Containers come back after a crash or a reboot; each starts once what it needs answers its health check. */
  @Test
  @SuppressWarnings("unchecked")
  void everyContainerRestartsHasAHealthCheckAndWaitsForHealthyDependencies() {
    for (Map.Entry<String, Object> e : services().entrySet()) {
      Map<String, Object> service = (Map<String, Object>) e.getValue();
      assertThat(service).as(e.getKey()).containsEntry("restart", "unless-stopped");
      Map<String, Object> health = (Map<String, Object>) service.get("healthcheck");
      assertThat(health).as(e.getKey() + " healthcheck").isNotNull();
      assertThat((List<Object>) health.get("test")).as(e.getKey()).isNotEmpty();
      Map<String, Object> dependsOn = (Map<String, Object>) service.getOrDefault("depends_on", Map.of());
      dependsOn.forEach((dependency, condition) -> {
        assertThat(services()).as(e.getKey() + " depends on " + dependency).containsKey(dependency);
        assertThat((Map<String, Object>) condition).as(e.getKey() + " -> " + dependency).containsEntry("condition", "service_healthy");
      });
    }
    assertThat((Map<String, Object>) service("jobs").get("depends_on")).containsKeys("kafka", "postgres", "artifacts");
    for (String name : List.of("artifacts", "training", "merging")) {
      assertThat((Map<String, Object>) service(name).get("depends_on")).as(name).containsKeys("kafka", "minio");
    }
  }

  /** The services' images may lack curl: their checks are bash alone, GET /q/health/ready on their own port. */
  @ParameterizedTest
  @ValueSource(strings = {"jobs", "artifacts", "training", "merging"})
  @SuppressWarnings("unchecked")
  void eachServiceIsHealthyWhenItIsReady(String name) {
    List<Object> test = (List<Object>) ((Map<String, Object>) service(name).get("healthcheck")).get("test");
    assertThat(test.subList(0, 3)).containsExactly("CMD", "bash", "-c");
    assertThat(String.valueOf(test.get(3))).contains("/dev/tcp/127.0.0.1/" + ServiceSettings.port(name) + " ")
        .contains("GET /q/health/ready HTTP/1.0").contains("' 200 '");
  }

  /** docker-compose up is the platform alone; --profile monitoring adds Prometheus and Grafana, on this machine only. */
  @Test
  @SuppressWarnings("unchecked")
  void monitoringIsAProfileOnThisMachineOnly() {
    for (Map.Entry<String, Object> e : services().entrySet()) {
      Object profiles = ((Map<String, Object>) e.getValue()).get("profiles");
      if (List.of("prometheus", "grafana", "jaeger").contains(e.getKey())) {
        assertThat(profiles).as(e.getKey()).isEqualTo(List.of("monitoring"));
        assertThat((List<Object>) service(e.getKey()).get("ports")).allSatisfy(p -> assertThat(String.valueOf(p)).startsWith("127.0.0.1:"));
      } else {
        assertThat(profiles).as(e.getKey() + " starts by default").isNull();
      }
    }
    assertThat(String.valueOf(service("grafana").get("image"))).startsWith("grafana/grafana:");
    assertThat(String.valueOf(service("prometheus").get("image"))).startsWith("prom/prometheus:");
    assertThat(String.valueOf(service("jaeger").get("image"))).startsWith("jaegertracing/jaeger:2.");
    // Traces are off unless asked for (the collector is the monitoring profile's), then go to its Jaeger.
    for (String name : List.of("jobs", "artifacts", "training", "merging")) {
      assertThat(env(name)).as(name).containsEntry("PEFT_TRACING_DISABLED", "${PEFT_TRACING_DISABLED:-true}")
          .containsEntry("PEFT_OTLP_ENDPOINT", "${PEFT_OTLP_ENDPOINT:-http://jaeger:4318}");
    }
    // No default admin password: a random one per container.
    assertThat(env("grafana")).doesNotContainKey("GF_SECURITY_ADMIN_PASSWORD");
    assertThat(String.valueOf(service("grafana").get("entrypoint"))).contains("GF_SECURITY_ADMIN_PASSWORD=").contains("/dev/urandom");
  }

  /** What compose mounts from this repository is there. */
  @Test
  void everyBindMountExists() {
    for (String name : services().keySet()) {
      mounts(name).values().forEach(path -> assertThat(ServiceSettings.ROOT.resolve(path)).as(name).exists());
    }
  }
}

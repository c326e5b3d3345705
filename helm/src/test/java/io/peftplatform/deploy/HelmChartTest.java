package io.peftplatform.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.InstallCommand;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The Helm chart, linted and rendered by real Helm (helm-java), checked against what the services read. */
class HelmChartTest {
  static final Helm CHART = Charts.CHART;

  static TemplateCommand withBackends() {
    return Charts.withBackends();
  }

  static List<JsonNode> render(TemplateCommand command) throws IOException {
    return Charts.render(command);
  }

  static JsonNode find(List<JsonNode> docs, String kind, String name) {
    return Charts.find(docs, kind, name);
  }

  static Map<String, JsonNode> env(JsonNode deployment) {
    Map<String, JsonNode> out = new TreeMap<>();
    deployment.path("spec").path("template").path("spec").path("containers").get(0).path("env")
        .forEach(e -> out.put(e.path("name").asText(), e));
    return out;
  }

  @Test
  void lintsCleanInStrictMode() {
    LintResult lint = CHART.lint().strict().call();
    assertThat(lint.isFailed()).as(String.join("\n", lint.getMessages())).isFalse();
  }

  @Test
  void rendersTheServicesBehindOneIngress() throws IOException {
    List<JsonNode> docs = render(withBackends().set("training.replicas", 5).set("ingress.host", "peft.example.com"));

    assertThat(docs).extracting(d -> d.path("kind").asText() + "/" + d.path("metadata").path("name").asText())
        .containsExactlyInAnyOrder("Secret/peft-secrets", "Deployment/peft-jobs", "Service/peft-jobs", "Deployment/peft-artifacts",
            "Service/peft-artifacts", "Deployment/peft-training", "Service/peft-training", "Deployment/peft-merging",
            "Service/peft-merging", "Ingress/peft",
            "PodDisruptionBudget/peft-jobs", "PodDisruptionBudget/peft-artifacts", "PodDisruptionBudget/peft-training",
            "PodDisruptionBudget/peft-merging", "NetworkPolicy/peft-jobs", "NetworkPolicy/peft-artifacts",
            "NetworkPolicy/peft-training", "NetworkPolicy/peft-merging");
    assertThat(find(docs, "Deployment", "peft-training").path("spec").path("replicas").asInt()).isEqualTo(5);
    JsonNode rule = find(docs, "Ingress", "peft").path("spec").path("rules").get(0);
    assertThat(rule.path("host").asText()).isEqualTo("peft.example.com");
    JsonNode backend = rule.path("http").path("paths").get(0).path("backend").path("service");
    assertThat(backend.path("name").asText()).isEqualTo("peft-jobs");
    assertThat(backend.path("port").path("name").asText()).isEqualTo("http");
    // The gateway reaches the other two through their Services.
    Map<String, JsonNode> jobsEnv = env(find(docs, "Deployment", "peft-jobs"));
    assertThat(jobsEnv.get("PEFT_ARTIFACTS_URL").path("value").asText()).isEqualTo("http://peft-artifacts:8082");
    assertThat(find(docs, "Service", "peft-artifacts").path("spec").path("ports").get(0).path("port").asInt()).isEqualTo(8082);
    assertThat(jobsEnv.get("PEFT_TRAINING_URL").path("value").asText()).isEqualTo("http://peft-training:8083");
  }

  @ParameterizedTest
  @ValueSource(strings = {"jobs", "artifacts", "training", "merging"})
  void eachServiceGetsWhatItNeedsAndOnlyWhatItReads(String service) throws IOException {
    List<JsonNode> docs = render(withBackends());
    Map<String, JsonNode> env = env(find(docs, "Deployment", "peft-" + service));

    assertThat(env.keySet()).containsAll(ServiceSettings.required(service));
    assertThat(ServiceSettings.readBy(service)).containsAll(env.keySet());
    // Every secret reference resolves to a key the chart's Secret holds.
    JsonNode secret = find(docs, "Secret", "peft-secrets");
    Set<String> keys = new HashSet<>();
    secret.path("stringData").fieldNames().forEachRemaining(keys::add);
    env.values().stream().map(e -> e.path("valueFrom").path("secretKeyRef")).filter(r -> !r.isMissingNode()).forEach(r -> {
      assertThat(r.path("name").asText()).isEqualTo("peft-secrets");
      assertThat(keys).contains(r.path("key").asText());
    });
    JsonNode container = find(docs, "Deployment", "peft-" + service).path("spec").path("template").path("spec").path("containers").get(0);
    assertThat(container.path("image").asText()).isEqualTo("peft-platform/" + service + ":0.1.0");
    assertThat(container.path("readinessProbe").path("httpGet").path("path").asText()).isEqualTo("/q/health/ready");
  }

  /** Spans go where monitoring.tracing.endpoint says; without one, tracing is off in every service. */
  @Test
  void everyServiceTracesToTheConfiguredCollectorOrNotAtAll() throws IOException {
    List<JsonNode> off = render(withBackends());
    List<JsonNode> on = render(withBackends().set("monitoring.tracing.endpoint", "http://otel-collector.monitoring:4318"));
    for (String service : List.of("jobs", "artifacts", "training", "merging")) {
      Map<String, JsonNode> envOff = env(find(off, "Deployment", "peft-" + service));
      assertThat(envOff.get("PEFT_TRACING_DISABLED").path("value").asText()).as(service).isEqualTo("true");
      assertThat(envOff).doesNotContainKey("PEFT_OTLP_ENDPOINT");
      Map<String, JsonNode> envOn = env(find(on, "Deployment", "peft-" + service));
      assertThat(envOn.get("PEFT_OTLP_ENDPOINT").path("value").asText()).as(service).isEqualTo("http://otel-collector.monitoring:4318");
      assertThat(envOn).doesNotContainKey("PEFT_TRACING_DISABLED");
    }
    assertThatThrownBy(() -> render(withBackends().set("monitoring.tracing.endpoint", "otel-collector:4318")))
        .as("an endpoint without its scheme").hasMessageContaining("tracing");
  }

  @Test
  void generatesAnInternalTokenWhenNoneIsGiven() throws IOException {
    JsonNode secret = find(render(withBackends()), "Secret", "peft-secrets");
    assertThat(secret.path("stringData").path("internal-token").asText()).hasSize(48);
    String mine = "my-own-internal-token-of-32-chars-or-more";
    JsonNode given = find(render(withBackends().set("internalToken", mine)), "Secret", "peft-secrets");
    assertThat(given.path("stringData").path("internal-token").asText()).isEqualTo(mine);
    assertThatThrownBy(() -> render(withBackends().set("internalToken", "short"))).hasMessageContaining("at least 32 characters");
  }

  /** An upgrade keeps the token the release already has, so the services keep talking to each other. */
  @Test
  void anUpgradeKeepsTheInternalTokenOfTheInstalledRelease() throws IOException {
    String installed = "the-token-a-previous-install-generated-0123";
    FakeKubernetesApi.get().putSecret("ml", "peft-secrets", Map.of("internal-token", installed, "admin-key", ""));
    try {
      JsonNode secret = find(render(withBackends()), "Secret", "peft-secrets");
      assertThat(secret.path("stringData").path("internal-token").asText()).isEqualTo(installed);
      String first = render(withBackends()).toString();
      assertThat(render(withBackends()).toString()).as("two renders of one release are the same").isEqualTo(first);
    } finally {
      FakeKubernetesApi.get().clear();
    }
  }

  @Test
  void refusesToRenderWithoutItsBackends() {
    assertThatThrownBy(() -> CHART.template().withName("peft").call()).hasMessageContaining("kafka.bootstrapServers is required");
    assertThatThrownBy(() -> CHART.template().withName("peft").set("kafka.bootstrapServers", "k:9092").call())
        .hasMessageContaining("is required");
  }

  /** The install notes (an install --dry-run on the client) say how training scales, and warn when metrics cannot be scraped. */
  @Test
  void theNotesSayHowTrainingScalesAndWarnWhenScrapesAreBlocked() {
    String plain = notes(Map.of());
    assertThat(plain).contains("Training workers: 2 (1 job(s) each)").contains("deploy/peft-training").doesNotContain("WARNING");
    assertThat(notes(Map.of("training.keda.enabled", true))).contains("scaled by KEDA");
    assertThat(notes(Map.of("training.autoscaling.enabled", true))).contains("scaled on CPU");
    assertThat(notes(Map.of("monitoring.serviceMonitor.enabled", true))).contains("WARNING").contains("networkPolicy.metricsFrom");
  }

  private static String notes(Map<String, Object> values) {
    InstallCommand install = CHART.install().withName("peft").withNamespace("ml").dryRun().clientOnly()
        .set("kafka.bootstrapServers", "kafka.kafka:9092").set("s3.endpoint", "http://minio.minio:9000")
        .set("postgres.jobsUrl", "jdbc:postgresql://pg:5432/jobs").set("postgres.artifactsUrl", "jdbc:postgresql://pg:5432/artifacts");
    for (Map.Entry<String, Object> v : values.entrySet()) {
      install = install.set(v.getKey(), v.getValue());
    }
    String output = install.call().getOutput();
    return output.substring(output.indexOf("NOTES:"));
  }
}

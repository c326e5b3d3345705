package io.peftplatform.deploy;

import static io.peftplatform.deploy.Charts.find;
import static io.peftplatform.deploy.Charts.kind;
import static io.peftplatform.deploy.Charts.name;
import static io.peftplatform.deploy.Charts.ofKind;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.marcnuri.helm.TemplateCommand;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every document the chart renders, for the default values, every values file it ships and every optional
 * part switched on, read strictly into the Kubernetes API types, and held to what an operator relies on:
 * selectors that select, probes on /q/health, non-root read-only containers with requests and limits,
 * names Kubernetes accepts.
 */
class RenderedManifestsTest {
  private static final Map<String, List<JsonNode>> RENDERS = new HashMap<>();

  /** The renders checked: name → how. */
  static Map<String, Supplier<TemplateCommand>> scenarios() {
    Map<String, Supplier<TemplateCommand>> out = new LinkedHashMap<>();
    out.put("values.yaml", Charts::withBackends);
    for (Path file : Charts.extraValuesFiles()) {
      out.put(file.getFileName().toString(), () -> Charts.withBackends().withValuesFile(file));
    }
    out.put("everything on, training on an HPA", () -> Charts.withBackends()
        .set("monitoring.serviceMonitor.enabled", true).set("monitoring.prometheusRule.enabled", true)
        .set("monitoring.dashboard.enabled", true).set("training.autoscaling.enabled", true)
        .set("networkPolicy.apiFrom[0].namespaceSelector.matchLabels.name", "ingress-nginx")
        .set("networkPolicy.metricsFrom[0].namespaceSelector.matchLabels.name", "monitoring")
        .set("image.pullSecrets[0].name", "registry").set("ingress.tls[0].secretName", "peft-tls")
        .set("ingress.tls[0].hosts[0]", "peft.example.com").set("ingress.host", "peft.example.com")
        .set("ingress.className", "nginx").set("s3.publicEndpoint", "https://s3.example.com")
        .set("training.threads", 4).set("merging.threads", 2)
        .set("training.nodeSelector.pool", "cpu").set("training.tolerations[0].key", "dedicated")
        .set("training.tolerations[0].operator", "Exists").set("training.tolerations[0].effect", "NoSchedule"));
    out.put("training on KEDA", () -> Charts.withBackends().set("training.keda.enabled", true));
    out.put("everything optional off", () -> Charts.withBackends().set("networkPolicy.enabled", false)
        .set("podDisruptionBudget.enabled", false).set("ingress.enabled", false)
        .set("s3.existingSecret", "s3").set("postgres.existingSecret", "db"));
    return out;
  }

  static Stream<Arguments> renders() {
    return scenarios().keySet().stream().map(Arguments::of);
  }

  static synchronized List<JsonNode> docs(String scenario) {
    return RENDERS.computeIfAbsent(scenario, s -> {
      try {
        return Charts.render(scenarios().get(s).get());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("renders")
  void everyDocumentIsAKubernetesObjectWithNoUnknownField(String scenario) {
    List<JsonNode> docs = docs(scenario);
    assertThat(docs).isNotEmpty();
    for (JsonNode doc : docs) {
      assertThatCode(() -> KubernetesModel.parse(doc)).as(scenario).doesNotThrowAnyException();
    }
    assertThat(ofKind(docs, "Deployment")).extracting(Charts::name)
        .containsExactlyInAnyOrder("peft-jobs", "peft-artifacts", "peft-training", "peft-merging");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("renders")
  void everyContainerIsProbedNonRootReadOnlyAndSized(String scenario) {
    for (JsonNode deployment : ofKind(docs(scenario), "Deployment")) {
      String where = scenario + ": " + name(deployment);
      JsonNode pod = deployment.path("spec").path("template").path("spec");
      assertThat(pod.path("automountServiceAccountToken").asBoolean(true)).as(where).isFalse();
      assertThat(pod.path("securityContext").path("runAsNonRoot").asBoolean()).as(where).isTrue();
      assertThat(pod.path("securityContext").path("seccompProfile").path("type").asText()).as(where).isEqualTo("RuntimeDefault");
      Set<String> volumes = new HashSet<>();
      pod.path("volumes").forEach(v -> volumes.add(v.path("name").asText()));
      assertThat(pod.path("containers")).as(where).isNotEmpty();
      for (JsonNode c : pod.path("containers")) {
        JsonNode security = c.path("securityContext");
        assertThat(security.path("runAsNonRoot").asBoolean()).as(where).isTrue();
        assertThat(security.path("readOnlyRootFilesystem").asBoolean()).as(where).isTrue();
        assertThat(security.path("allowPrivilegeEscalation").asBoolean(true)).as(where).isFalse();
        assertThat(security.path("capabilities").path("drop").toString()).as(where).isEqualTo("[\"ALL\"]");
        assertThat(c.path("livenessProbe").path("httpGet").path("path").asText()).as(where).isEqualTo("/q/health/live");
        assertThat(c.path("readinessProbe").path("httpGet").path("path").asText()).as(where).isEqualTo("/q/health/ready");
        assertThat(c.path("startupProbe").path("httpGet").path("path").asText()).as(where).isEqualTo("/q/health/started");
        Set<String> ports = new HashSet<>();
        c.path("ports").forEach(p -> ports.add(p.path("name").asText()));
        for (String probe : List.of("livenessProbe", "readinessProbe", "startupProbe")) {
          assertThat(ports).as(where + " " + probe).contains(c.path(probe).path("httpGet").path("port").asText());
        }
        JsonNode resources = c.path("resources");
        assertThat(resources.path("requests").has("cpu") && resources.path("requests").has("memory")).as(where + " requests").isTrue();
        assertThat(resources.path("limits").has("memory")).as(where + " memory limit").isTrue();
        // A read-only root: the services write to /tmp and to their volumes only, each mounted from the pod's volumes.
        Set<String> mounted = new HashSet<>();
        c.path("volumeMounts").forEach(m -> {
          assertThat(volumes).as(where).contains(m.path("name").asText());
          mounted.add(m.path("mountPath").asText());
        });
        assertThat(mounted).as(where).contains("/tmp");
        // Every directory the service is told to write to is on one of those volumes; the native caches
        // under /opt/peft/natives are the image's, filled when it was built and only read (DockerfileTest).
        for (JsonNode env : c.path("env")) {
          String value = env.path("value").asText();
          List<String> dirs = new ArrayList<>();
          if (env.path("name").asText().endsWith("_DIR")) {
            dirs.add(value);
          }
          Matcher cacheDir = Pattern.compile("-D[\\w.]*(?:cachedir|tmpdir)=(\\S+)").matcher(value);
          while (cacheDir.find()) {
            dirs.add(cacheDir.group(1));
          }
          for (String dir : dirs) {
            if (dir.startsWith("/opt/peft/natives/")) {
              continue;
            }
            assertThat(mounted).as(where + " " + env.path("name").asText() + "=" + dir)
                .anySatisfy(m -> assertThat(dir.equals(m) || dir.startsWith(m + "/")).isTrue());
          }
        }
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("renders")
  void everySelectorSelectsWhatItIsFor(String scenario) {
    List<JsonNode> docs = docs(scenario);
    List<JsonNode> deployments = ofKind(docs, "Deployment");
    Map<String, JsonNode> podLabels = new LinkedHashMap<>();
    for (JsonNode d : deployments) {
      JsonNode labels = d.path("spec").path("template").path("metadata").path("labels");
      assertThat(contains(labels, d.path("spec").path("selector").path("matchLabels")))
          .as(scenario + ": " + name(d) + " selects its own pods").isTrue();
      assertThat(d.path("spec").path("selector").path("matchLabels").size()).isPositive();
      podLabels.put(name(d), labels);
    }
    for (JsonNode service : ofKind(docs, "Service")) {
      JsonNode selector = service.path("spec").path("selector");
      List<JsonNode> selected = deployments.stream()
          .filter(d -> contains(d.path("spec").path("template").path("metadata").path("labels"), selector)).toList();
      assertThat(selected).as(scenario + ": Service " + name(service) + " selects one Deployment's pods").hasSize(1);
      Set<String> containerPorts = new HashSet<>();
      selected.get(0).path("spec").path("template").path("spec").path("containers")
          .forEach(c -> c.path("ports").forEach(p -> containerPorts.add(p.path("name").asText())));
      service.path("spec").path("ports").forEach(p -> assertThat(containerPorts).contains(p.path("targetPort").asText()));
    }
    for (String kind : List.of("PodDisruptionBudget", "NetworkPolicy")) {
      for (JsonNode policy : ofKind(docs, kind)) {
        JsonNode selector = kind.equals("NetworkPolicy") ? policy.path("spec").path("podSelector").path("matchLabels")
            : policy.path("spec").path("selector").path("matchLabels");
        assertThat(podLabels.values().stream().filter(l -> contains(l, selector)))
            .as(scenario + ": " + kind + " " + name(policy)).hasSize(1);
      }
    }
    for (JsonNode monitor : ofKind(docs, "ServiceMonitor")) {
      JsonNode selector = monitor.path("spec").path("selector").path("matchLabels");
      List<JsonNode> services = ofKind(docs, "Service").stream().filter(s -> contains(s.path("metadata").path("labels"), selector)).toList();
      assertThat(services).as(scenario + ": ServiceMonitor " + name(monitor)).hasSize(1);
      Set<String> ports = new HashSet<>();
      services.get(0).path("spec").path("ports").forEach(p -> ports.add(p.path("name").asText()));
      monitor.path("spec").path("endpoints").forEach(e -> {
        assertThat(ports).contains(e.path("port").asText());
        assertThat(e.path("path").asText()).isEqualTo("/q/metrics");
      });
    }
    for (String kind : List.of("HorizontalPodAutoscaler", "ScaledObject")) {
      for (JsonNode scaler : ofKind(docs, kind)) {
        String target = scaler.path("spec").path("scaleTargetRef").path("name").asText();
        assertThat(target).isEqualTo("peft-training");
        assertThat(find(docs, "Deployment", target).path("spec").has("replicas"))
            .as(scenario + ": the " + kind + " owns the training replicas").isFalse();
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("renders")
  void namesAreValidAndUniquePerKind(String scenario) {
    Set<String> seen = new HashSet<>();
    for (JsonNode doc : docs(scenario)) {
      assertThat(name(doc)).as(scenario).matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?").hasSizeLessThanOrEqualTo(63);
      assertThat(seen.add(kind(doc) + "/" + name(doc))).as(scenario + ": " + kind(doc) + "/" + name(doc) + " twice").isTrue();
      doc.path("metadata").path("labels").forEach(v -> assertThat(v.asText()).hasSizeLessThanOrEqualTo(63));
    }
  }

  /** Helm allows release names up to 53 characters; every name built on one stays within 63. */
  @Test
  void theLongestReleaseNameAndALongFullnameOverrideStayWithin63Characters() throws IOException {
    String release = "peft-" + "r".repeat(48);
    assertThat(release).hasSize(53);
    List<JsonNode> docs = Charts.render(Charts.withBackends(release).set("monitoring.serviceMonitor.enabled", true)
        .set("monitoring.prometheusRule.enabled", true).set("monitoring.dashboard.enabled", true).set("training.keda.enabled", true));
    assertThat(find(docs, "Deployment", release + "-artifacts")).isNotNull();
    List<String> names = new ArrayList<>();
    for (JsonNode doc : docs) {
      names.add(kind(doc) + "/" + name(doc));
      assertThat(name(doc)).hasSizeLessThanOrEqualTo(63);
      doc.path("metadata").path("labels").forEach(v -> assertThat(v.asText()).hasSizeLessThanOrEqualTo(63));
    }
    assertThat(names).doesNotHaveDuplicates();

    String override = "x".repeat(70);
    docs = Charts.render(Charts.withBackends().set("fullnameOverride", override.substring(0, 63)));
    assertThat(docs).allSatisfy(d -> assertThat(name(d)).hasSizeLessThanOrEqualTo(63));
    assertThat(find(docs, "Deployment", "x".repeat(53) + "-artifacts")).isNotNull();
    assertThat(find(docs, "Secret", "x".repeat(53) + "-secrets")).isNotNull();
    assertThatThrownBy(() -> Charts.render(Charts.withBackends().set("fullnameOverride", override)))
        .hasMessageContaining("fullnameOverride");
  }

  /** The check itself: a misspelled field fails it, the same document spelled right passes. */
  @Test
  void aMisspelledFieldFailsTheStrictCheck() throws IOException {
    String deployment = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: d}
        spec:
          selector: {matchLabels: {app: d}}
          template:
            metadata: {labels: {app: d}}
            spec:
              containers:
                - name: c
                  image: i
                  %s: {runAsNonRoot: true}
        """;
    assertThatCode(() -> KubernetesModel.parse(Charts.YAML.readTree(deployment.formatted("securityContext")))).doesNotThrowAnyException();
    assertThatThrownBy(() -> KubernetesModel.parse(Charts.YAML.readTree(deployment.formatted("securityContex"))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("securityContex");
  }

  @Test
  void aWrongTypeAnUnknownApiVersionAndAMisspelledCustomResourceFailTheStrictCheck() throws IOException {
    assertThatThrownBy(() -> KubernetesModel.parse(Charts.YAML.readTree("""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: d}
        spec: {replicas: "two"}
        """))).hasMessageContaining("replicas");
    assertThatThrownBy(() -> KubernetesModel.parse(Charts.YAML.readTree("""
        apiVersion: policy/v1beta1
        kind: PodDisruptionBudget
        metadata: {name: p}
        spec: {maxUnavailable: 1}
        """))).hasMessageContaining("policy/v1beta1/PodDisruptionBudget");
    assertThatThrownBy(() -> KubernetesModel.parse(Charts.YAML.readTree("""
        apiVersion: monitoring.coreos.com/v1
        kind: ServiceMonitor
        metadata: {name: m}
        spec:
          selector: {matchLabels: {app: a}}
          endpoints: [{port: http, honorLabel: true}]
        """))).hasMessageContaining("honorLabel");
    String scaledObject = """
        apiVersion: keda.sh/v1alpha1
        kind: ScaledObject
        metadata: {name: s}
        spec:
          scaleTargetRef: {name: t}
          %s: 2
          triggers: [{type: kafka, metadata: {topic: t}}]
        """;
    assertThatCode(() -> KubernetesModel.parse(Charts.YAML.readTree(scaledObject.formatted("minReplicaCount")))).doesNotThrowAnyException();
    assertThatThrownBy(() -> KubernetesModel.parse(Charts.YAML.readTree(scaledObject.formatted("minReplicas"))))
        .hasMessageContaining("unknown field minReplicas");
  }

  /** Duplicate keys (which kubectl apply refuses) fail the render's parse. */
  @Test
  void duplicateKeysFailTheParse() {
    assertThatThrownBy(() -> Charts.YAML.readTree("metadata:\n  labels:\n    a: x\n    a: x\n")).hasMessageContaining("Duplicate field 'a'");
  }

  @Test
  void trainingScalesByCpuOrByConsumerLagNeverBoth() throws IOException {
    JsonNode hpa = find(docs("everything on, training on an HPA"), "HorizontalPodAutoscaler", "peft-training");
    assertThat(hpa.path("spec").path("metrics").get(0).path("resource").path("name").asText()).isEqualTo("cpu");
    assertThat(ofKind(docs("everything on, training on an HPA"), "ScaledObject")).isEmpty();

    JsonNode keda = find(docs("training on KEDA"), "ScaledObject", "peft-training");
    JsonNode trigger = keda.path("spec").path("triggers").get(0);
    assertThat(trigger.path("type").asText()).isEqualTo("kafka");
    assertThat(trigger.path("metadata").path("topic").asText()).isEqualTo("peft.job-commands");
    assertThat(trigger.path("metadata").path("consumerGroup").asText()).isEqualTo(trainingConsumerGroup());
    assertThat(trigger.path("metadata").path("bootstrapServers").asText()).isEqualTo("kafka.kafka:9092");
    assertThat(trigger.path("metadata").path("lagThreshold").asText()).as("training.concurrency by default").isEqualTo("1");
    assertThat(ofKind(docs("training on KEDA"), "HorizontalPodAutoscaler")).isEmpty();
    assertThat(find(docs("values.yaml"), "Deployment", "peft-training").path("spec").path("replicas").asInt()).isEqualTo(2);

    assertThatThrownBy(() -> Charts.render(Charts.withBackends().set("training.autoscaling.enabled", true).set("training.keda.enabled", true)))
        .hasMessageContaining("training.autoscaling.enabled and training.keda.enabled are mutually exclusive");
  }

  @Test
  void onlyJobsIsOpenToTheOutsideTheOthersToTheReleaseAndTheScrapers() {
    List<JsonNode> docs = docs("values.yaml");
    JsonNode jobs = find(docs, "NetworkPolicy", "peft-jobs").path("spec");
    assertThat(jobs.path("policyTypes").toString()).isEqualTo("[\"Ingress\"]");
    assertThat(jobs.path("ingress").get(0).has("from")).as("jobs: any source").isFalse();
    for (String internal : List.of("peft-artifacts", "peft-training", "peft-merging")) {
      JsonNode spec = find(docs, "NetworkPolicy", internal).path("spec");
      assertThat(spec.path("policyTypes").toString()).as("egress stays open").isEqualTo("[\"Ingress\"]");
      JsonNode from = spec.path("ingress").get(0).path("from");
      assertThat(from).hasSize(1);
      assertThat(from.get(0).path("podSelector").path("matchLabels").path("app.kubernetes.io/instance").asText()).isEqualTo("peft");
      assertThat(from.get(0).has("namespaceSelector")).as("this namespace only").isFalse();
    }
    List<JsonNode> all = docs("everything on, training on an HPA");
    JsonNode training = find(all, "NetworkPolicy", "peft-training").path("spec").path("ingress").get(0).path("from");
    assertThat(training).hasSize(2);
    assertThat(training.get(1).path("namespaceSelector").path("matchLabels").path("name").asText()).isEqualTo("monitoring");
    JsonNode api = find(all, "NetworkPolicy", "peft-jobs").path("spec").path("ingress").get(0).path("from");
    assertThat(api).hasSize(2); // apiFrom, and the scrapers
  }

  @Test
  void monitoringObjectsAreRenderedOnlyWhenAskedFor() {
    assertThat(docs("values.yaml")).noneMatch(d -> Set.of("ServiceMonitor", "PrometheusRule", "ConfigMap", "HorizontalPodAutoscaler",
        "ScaledObject").contains(kind(d)));
    List<JsonNode> all = docs("everything on, training on an HPA");
    assertThat(ofKind(all, "ServiceMonitor")).extracting(Charts::name)
        .containsExactlyInAnyOrder("peft-jobs", "peft-artifacts", "peft-training", "peft-merging");
    JsonNode endpoint = find(all, "ServiceMonitor", "peft-training").path("spec").path("endpoints").get(0);
    assertThat(endpoint.path("honorLabels").asBoolean()).as("peft_training_*{job} keeps its job label").isTrue();
    assertThat(endpoint.path("relabelings").toString()).contains("\"targetLabel\":\"platform\"").contains("\"replacement\":\"peft\"")
        .contains("\"targetLabel\":\"application\"").contains("\"replacement\":\"training\"");
    assertThat(find(all, "ConfigMap", "peft-dashboard").path("metadata").path("labels").path("grafana_dashboard").asText()).isEqualTo("1");
    assertThat(find(all, "PrometheusRule", "peft-alerts")).isNotNull();
  }

  static String trainingConsumerGroup() {
    try {
      return java.nio.file.Files.readAllLines(ServiceSettings.ROOT.resolve("services/training/src/main/resources/application.properties"))
          .stream().filter(l -> l.startsWith("mp.messaging.incoming.job-commands.group.id=")).map(l -> l.substring(l.indexOf('=') + 1))
          .findFirst().orElseThrow();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static boolean contains(JsonNode labels, JsonNode selector) {
    for (Map.Entry<String, JsonNode> e : selector.properties()) {
      if (!labels.path(e.getKey()).asText("\0").equals(e.getValue().asText())) {
        return false;
      }
    }
    return true;
  }
}

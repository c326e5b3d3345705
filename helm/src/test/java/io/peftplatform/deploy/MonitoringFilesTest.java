package io.peftplatform.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * The Grafana dashboard and the alert rules (helm/peft-platform/files, one copy for the chart and for
 * docker-compose) and compose's Prometheus and Grafana configuration: they parse, they query only the
 * series the services export, and the chart and compose load exactly these files.
 */
class MonitoringFilesTest {
  static final Path DASHBOARD = Charts.DIR.resolve("files/grafana/peft-platform.json");
  static final Path ALERTS = Charts.DIR.resolve("files/prometheus/alerts.yml");
  static final Path PROMETHEUS = ServiceSettings.ROOT.resolve("monitoring/prometheus.yml");
  static final List<String> SERVICES = List.of("jobs", "artifacts", "training", "merging");

  /** The series the services export (Micrometer in the services), and the standard ones the files use. */
  static final Set<String> EXPORTED = Set.of(
      "http_server_requests_seconds_count", "http_server_requests_seconds_sum", "http_server_requests_seconds_bucket",
      "peft_jobs",
      "peft_outbox_backlog", "peft_outbox_oldest_age_seconds", "peft_outbox_parked",
      "peft_dead_letters_total",
      "peft_training_step_seconds", "peft_training_tokens_per_second", "peft_training_loss", "peft_training_progress_ratio",
      "peft_merge_duration_seconds_count", "peft_merge_duration_seconds_sum", "peft_merge_duration_seconds_max",
      "peft_model_validation_active", "peft_model_validation_queued",
      "peft_native_memory_bytes",
      "kafka_consumer_fetch_manager_records_lag_max", "kafka_consumer_fetch_manager_records_lag");
  /** Standard series: Prometheus' own per target, and the JVM's from Micrometer's binders. */
  static final Set<String> STANDARD = Set.of("up", "jvm_memory_used_bytes");
  /** Labels of those series (all carry application; the scrape adds platform, instance, namespace …). */
  static final Set<String> LABELS = Set.of("application", "platform", "instance", "namespace", "uri", "status", "method", "outcome",
      "tenant", "topic", "partition", "client_id", "job_id", "kind", "area", "le");

  static JsonNode dashboard;
  static JsonNode alerts;

  @BeforeAll
  static void load() throws IOException {
    dashboard = Charts.YAML.readTree(DASHBOARD.toFile());
    alerts = Charts.YAML.readTree(ALERTS.toFile());
  }

  /** The metric names a PromQL expression reads (not its functions, keywords, labels or durations). */
  static Set<String> metricNames(String expr) {
    String s = expr.replaceAll("\"(\\\\.|[^\"\\\\])*\"", "\"\"")
        .replaceAll("\\{[^}]*}", " ")
        .replaceAll("\\[[^]]*]", " ")
        .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ");
    Set<String> names = new TreeSet<>();
    Matcher m = Pattern.compile("(?<![\\w.$])[a-zA-Z_:][a-zA-Z0-9_:]*+(?!\\s*\\()").matcher(s);
    while (m.find()) {
      String name = m.group();
      if (!Set.of("by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "and", "or", "unless", "Inf", "NaN")
          .contains(name)) {
        names.add(name);
      }
    }
    return names;
  }

  /** The label names a PromQL expression matches or groups by. */
  static Set<String> labelNames(String expr) {
    Set<String> names = new TreeSet<>();
    Matcher matchers = Pattern.compile("\\{([^}]*)}").matcher(expr);
    while (matchers.find()) {
      Matcher label = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)\\s*(=~|!~|!=|=)").matcher(matchers.group(1));
      while (label.find()) {
        names.add(label.group(1));
      }
    }
    Matcher groups = Pattern.compile("\\b(by|without|on|ignoring)\\s*\\(([^)]*)\\)").matcher(expr);
    while (groups.find()) {
      for (String label : groups.group(2).split(",")) {
        if (!label.isBlank()) {
          names.add(label.trim());
        }
      }
    }
    return names;
  }

  @Test
  void theMetricNameExtractionSeesMetricsOnly() {
    assertThat(metricNames("histogram_quantile(0.95, sum by (application, le) (rate(http_server_requests_seconds_bucket{uri=~\"/v1.*\"}[$__rate_interval])))"))
        .containsExactly("http_server_requests_seconds_bucket");
    assertThat(metricNames("max by (tenant) (delta(peft_jobs{status=\"failed\"}[30m])) > 0 or up offset 5m == bool 1"))
        .containsExactly("peft_jobs", "up");
    assertThat(labelNames("sum without (instance) (x{a=\"1\", b=~\"2\"}) / on(c) y")).containsExactly("a", "b", "c", "instance");
  }

  @Test
  void theDashboardIsAGrafanaDashboardOnAPrometheusDataSourceVariable() {
    assertThat(dashboard.path("schemaVersion").asInt()).isGreaterThanOrEqualTo(39);
    assertThat(dashboard.path("uid").asText()).isEqualTo("peft-platform");
    JsonNode ds = null;
    for (JsonNode v : dashboard.path("templating").path("list")) {
      if (v.path("name").asText().equals("DS_PROMETHEUS")) {
        ds = v;
      }
    }
    assertThat(ds).as("a DS_PROMETHEUS variable").isNotNull();
    assertThat(ds.path("type").asText()).isEqualTo("datasource");
    assertThat(ds.path("query").asText()).isEqualTo("prometheus");
    Set<Integer> ids = new HashSet<>();
    for (JsonNode panel : panels()) {
      assertThat(ids.add(panel.path("id").asInt())).as("panel ids are unique").isTrue();
      JsonNode grid = panel.path("gridPos");
      assertThat(grid.path("x").asInt() + grid.path("w").asInt()).as(panel.path("title").asText()).isLessThanOrEqualTo(24);
      if (panel.path("type").asText().equals("row")) {
        continue;
      }
      assertThat(panel.path("datasource").path("uid").asText()).as(panel.path("title").asText()).isEqualTo("${DS_PROMETHEUS}");
      assertThat(panel.path("targets")).as(panel.path("title").asText()).isNotEmpty();
      for (JsonNode target : panel.path("targets")) {
        assertThat(target.path("datasource").path("uid").asText()).isEqualTo("${DS_PROMETHEUS}");
        assertThat(target.path("expr").asText()).isNotBlank();
      }
    }
  }

  @Test
  void theDashboardQueriesOnlyExportedSeriesAndShowsEveryOne() {
    Set<String> used = new TreeSet<>();
    Set<String> labels = new TreeSet<>();
    for (JsonNode panel : panels()) {
      for (JsonNode target : panel.path("targets")) {
        used.addAll(metricNames(target.path("expr").asText()));
        labels.addAll(labelNames(target.path("expr").asText()));
      }
    }
    Pattern labelValues = Pattern.compile("label_values\\((?:(.+),\\s*)?([a-zA-Z_][a-zA-Z0-9_]*)\\)");
    for (JsonNode v : dashboard.path("templating").path("list")) {
      if (v.path("type").asText().equals("query")) {
        Matcher m = labelValues.matcher(v.path("query").path("query").asText(v.path("query").asText()));
        assertThat(m.matches()).as(v.path("name").asText()).isTrue();
        used.addAll(metricNames(m.group(1)));
        labels.addAll(labelNames(m.group(1)));
        labels.add(m.group(2));
      }
    }
    assertThat(used).as("series the dashboard reads").isSubsetOf(union(EXPORTED, STANDARD));
    assertThat(labels).as("labels the dashboard reads").isSubsetOf(LABELS);
    Set<String> shown = new TreeSet<>(EXPORTED);
    shown.removeAll(Set.of("http_server_requests_seconds_sum")); // rates and percentiles come from _count and _bucket
    assertThat(used).as("every exported series has a panel").containsAll(shown);
  }

  @Test
  void theAlertsAreTheFiveTheIssueAsksForOnExportedSeries() {
    assertThat(alerts.properties()).extracting(Map.Entry::getKey).containsExactly("groups");
    Map<String, String> expected = Map.of(
        "PeftServiceDown", "up{platform=\"peft\"} == 0",
        "PeftOutboxStalled", "(peft_outbox_oldest_age_seconds) > 60",
        "PeftDeadLettersGrowing", "(increase(peft_dead_letters_total[15m])) > 0",
        "PeftConsumerLag", "max by (client_id) (kafka_consumer_fetch_manager_records_lag_max) > 100",
        "PeftJobsFailing", "(delta(peft_jobs{status=\"failed\"}[30m])) > 0");
    Map<String, String> expectedFor = Map.of("PeftServiceDown", "2m", "PeftOutboxStalled", "5m", "PeftConsumerLag", "10m");
    List<String> names = new ArrayList<>();
    for (JsonNode group : alerts.path("groups")) {
      assertThat(group.path("name").asText()).isNotBlank();
      for (JsonNode rule : group.path("rules")) {
        String name = rule.path("alert").asText();
        names.add(name);
        String expr = rule.path("expr").asText();
        assertThat(expr).as(name).contains(expected.getOrDefault(name, "(not expected)"));
        assertThat(metricNames(expr)).as(name).isNotEmpty().isSubsetOf(union(EXPORTED, STANDARD));
        assertThat(labelNames(expr)).as(name).isSubsetOf(LABELS);
        assertThat(rule.path("for").asText("")).as(name).isEqualTo(expectedFor.getOrDefault(name, ""));
        assertThat(rule.path("labels").path("severity").asText()).as(name).isIn("critical", "warning");
        assertThat(rule.path("annotations").path("summary").asText()).as(name).isNotBlank();
        assertThat(rule.path("annotations").path("description").asText()).as(name).isNotBlank();
        Set<String> fields = new HashSet<>();
        rule.fieldNames().forEachRemaining(fields::add);
        assertThat(fields).as(name).isSubsetOf("alert", "expr", "for", "labels", "annotations", "keep_firing_for");
      }
    }
    assertThat(names).containsExactlyInAnyOrderElementsOf(expected.keySet());
  }

  @Test
  void theChartShipsTheSameRulesAndDashboard() throws IOException {
    List<JsonNode> docs = Charts.render(Charts.withBackends().set("monitoring.prometheusRule.enabled", true)
        .set("monitoring.dashboard.enabled", true));
    assertThat(Charts.find(docs, "PrometheusRule", "peft-alerts").path("spec")).isEqualTo(alerts);
    JsonNode configMap = Charts.find(docs, "ConfigMap", "peft-dashboard");
    assertThat(Charts.YAML.readTree(configMap.path("data").path("peft-platform.json").asText())).isEqualTo(dashboard);
  }

  @Test
  @SuppressWarnings("unchecked")
  void composePrometheusScrapesEveryServiceAndLoadsTheRules() throws IOException {
    Map<String, Object> prometheus;
    try (Reader in = Files.newBufferedReader(PROMETHEUS)) {
      prometheus = new Yaml().load(in);
    }
    Map<String, String> mounts = ComposeFileTest.mounts("prometheus");
    assertThat(mounts).containsEntry("/etc/prometheus/prometheus.yml", "monitoring/prometheus.yml");
    List<String> ruleFiles = (List<String>) prometheus.get("rule_files");
    assertThat(ruleFiles).hasSize(1);
    assertThat(mounts).containsEntry(ruleFiles.get(0), "helm/peft-platform/files/prometheus/alerts.yml");

    List<Map<String, Object>> jobs = (List<Map<String, Object>>) prometheus.get("scrape_configs");
    assertThat(jobs).extracting(j -> j.get("job_name")).containsExactlyInAnyOrderElementsOf(SERVICES);
    for (Map<String, Object> job : jobs) {
      String service = (String) job.get("job_name");
      assertThat(ComposeFileTest.service(service)).as(service + " is a compose service").isNotNull();
      assertThat(job).containsEntry("metrics_path", "/q/metrics").containsEntry("honor_labels", true);
      List<Map<String, Object>> dns = (List<Map<String, Object>>) job.get("dns_sd_configs");
      assertThat(dns).hasSize(1);
      assertThat(dns.get(0)).containsEntry("names", List.of(service)).containsEntry("type", "A")
          .containsEntry("port", ServiceSettings.port(service));
      assertThat((List<Map<String, Object>>) job.get("relabel_configs")).containsExactlyInAnyOrder(
          Map.of("target_label", "platform", "replacement", "peft"), Map.of("target_label", "application", "replacement", service));
    }
  }

  @Test
  @SuppressWarnings("unchecked")
  void composeGrafanaProvisionsPrometheusAndTheChartsDashboard() throws IOException {
    Map<String, String> mounts = ComposeFileTest.mounts("grafana");
    Path provisioning = ServiceSettings.ROOT.resolve("monitoring/grafana/provisioning");
    Map<String, Object> datasources;
    Map<String, Object> dashboards;
    try (Reader ds = Files.newBufferedReader(provisioning.resolve("datasources/prometheus.yml"));
        Reader db = Files.newBufferedReader(provisioning.resolve("dashboards/peft-platform.yml"))) {
      datasources = new Yaml().load(ds);
      dashboards = new Yaml().load(db);
    }
    Map<String, Object> source = ((List<Map<String, Object>>) datasources.get("datasources")).get(0);
    assertThat(source).containsEntry("type", "prometheus").containsEntry("url", "http://prometheus:9090").containsEntry("isDefault", true);
    String path = (String) ((Map<String, Object>) ((List<Map<String, Object>>) dashboards.get("providers")).get(0).get("options")).get("path");
    assertThat(mounts).containsEntry(path, "helm/peft-platform/files/grafana")
        .containsEntry("/etc/grafana/provisioning/datasources", "monitoring/grafana/provisioning/datasources")
        .containsEntry("/etc/grafana/provisioning/dashboards", "monitoring/grafana/provisioning/dashboards");
    assertThat(String.valueOf(ComposeFileTest.env("grafana").get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")))
        .isEqualTo(path + "/" + DASHBOARD.getFileName());
  }

  private static List<JsonNode> panels() {
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode panel : dashboard.path("panels")) {
      out.add(panel);
      panel.path("panels").forEach(out::add); // a collapsed row's own panels
    }
    return out;
  }

  private static Set<String> union(Set<String> a, Set<String> b) {
    Set<String> out = new HashSet<>(a);
    out.addAll(b);
    return out;
  }
}

package io.peftplatform.stack;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftplatform.client.PeftClient;
import io.peftplatform.testsupport.PrometheusScrape;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * Metrics on the running stack, as an operator's Prometheus scrapes them: after a job, the jobs service
 * counts it as its tenant's succeeded job and shows the request that created it; every service (the
 * training worker included) serves its page with its own {@code application} tag.
 */
class MetricsFlowTest {
  static final ObjectMapper JSON = new ObjectMapper();

  static PrometheusScrape scrape(String url) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
        .header("Authorization", "Bearer " + RunningStack.get().internalToken()).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(url).isEqualTo(200);
    return PrometheusScrape.parse(r.body());
  }

  @Test
  void aJobShowsInTheJobsServicesMetricsAndEveryServiceServesItsPage() throws Exception {
    String tenant = "e2e-metrics";
    Map<String, String> urls = RunningStack.get().metricsUrls();
    try (PeftClient client = RunningStack.tenant(tenant)) {
      String model = client.uploadModel(RunningStack.tinyModel(), "tiny").path("id").asText();
      RunningStack.ready(client, model);
      String dataset = client.uploadDataset(FineTuningFlowTest.opposites(), "opposites.jsonl").path("id").asText();
      ObjectNode request = JSON.createObjectNode().put("model", model).put("training_file", dataset).put("seed", 1);
      request.putObject("hyperparameters").put("max_steps", 3);
      JsonNode job = client.followJob(client.createJob(request).path("id").asText(), e -> {}, RunningStack.JOB_TIMEOUT);
      assertThat(job.path("status").asText()).isEqualTo("succeeded");
    }

    Awaitility.await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      PrometheusScrape jobs = scrape(urls.get("jobs"));
      assertThat(jobs.value("peft_jobs", Map.of("application", "jobs", "tenant", tenant, "status", "succeeded"))).hasValue(1.0);
      assertThat(jobs.value("peft_jobs", Map.of("tenant", tenant, "status", "running"))).hasValue(0.0);
    });
    PrometheusScrape jobs = scrape(urls.get("jobs"));
    assertThat(jobs.sum("http_server_requests_seconds_count", Map.of("method", "POST", "uri", "/v1/fine_tuning/jobs", "status", "200")))
        .isGreaterThanOrEqualTo(1);
    assertThat(jobs.value("peft_outbox_oldest_age_seconds", Map.of("application", "jobs")).orElseThrow()).isLessThan(60);
    PrometheusScrape artifacts = scrape(urls.get("artifacts"));
    assertThat(artifacts.value("peft_model_validation_queued", Map.of("application", "artifacts"))).hasValue(0.0);
    assertThat(artifacts.value("peft_outbox_backlog", Map.of("application", "artifacts"))).isPresent();
    for (Map.Entry<String, String> e : urls.entrySet()) {
      if (e.getKey().startsWith("training") || e.getKey().equals("merging")) {
        PrometheusScrape m = scrape(e.getValue());
        assertThat(m.value("peft_native_memory_bytes", Map.of("kind", "total"))).as(e.getKey()).isPresent();
        assertThat(m.all("kafka_consumer_fetch_manager_records_lag_max", Map.of())).as(e.getKey() + "'s consumers").isNotEmpty();
      }
    }
  }
}

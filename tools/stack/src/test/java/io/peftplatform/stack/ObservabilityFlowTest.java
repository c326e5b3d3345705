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
import io.peftplatform.stack.TraceCollector.StoredSpan;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * Metrics and traces on the running stack, as an operator sees them. Metrics as Prometheus scrapes them:
 * after a job, the jobs service counts it as its tenant's succeeded job and shows the request that
 * created it; every service (the training worker included) serves its page with its own
 * {@code application} tag. Traces as the stack's collector received them: the job's one trace runs from
 * its POST through the outbox, Kafka and the worker to its final event, read by the jobs and artifacts
 * services, each span the child of the one before; the worker's log lines carry its trace id.
 */
class ObservabilityFlowTest {
  static final ObjectMapper JSON = new ObjectMapper();

  static PrometheusScrape scrape(String url) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
        .header("Authorization", "Bearer " + RunningStack.get().internalToken()).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(url).isEqualTo(200);
    return PrometheusScrape.parse(r.body());
  }

  @Test
  void aJobShowsInTheMetricsOfEveryServiceAndInOneTraceFromItsRequestToItsFinalEvent() throws Exception {
    String tenant = "e2e-metrics";
    Map<String, String> urls = RunningStack.get().metricsUrls();
    String jobId;
    try (PeftClient client = RunningStack.tenant(tenant)) {
      String model = client.uploadModel(RunningStack.tinyModel(), "tiny").path("id").asText();
      RunningStack.ready(client, model);
      String dataset = client.uploadDataset(FineTuningFlowTest.opposites(), "opposites.jsonl").path("id").asText();
      ObjectNode request = JSON.createObjectNode().put("model", model).put("training_file", dataset).put("seed", 1);
      request.putObject("hyperparameters").put("max_steps", 3);
      jobId = client.createJob(request).path("id").asText();
      JsonNode job = client.followJob(jobId, e -> {}, RunningStack.JOB_TIMEOUT);
      assertThat(job.path("status").asText()).isEqualTo("succeeded");
    }
    assertJobTrace(jobId, tenant);

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

  /** The job's trace: request → outbox → Kafka → worker → final event → its consumers, each span the child of the one before. */
  static void assertJobTrace(String jobId, String tenant) throws Exception {
    TraceCollector traces = RunningStack.get().traces();
    Awaitility.await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      List<String> ids = traces.tracesAbout(jobId);
      assertThat(ids).as("traces about %s", jobId).hasSize(1);
      List<StoredSpan> spans = traces.trace(ids.get(0));
      StoredSpan post = one(spans, "jobs", "server", "POST /v1/fine_tuning/jobs");
      assertThat(post.parentSpanId()).as("the request starts the trace").isNull();
      assertThat(post.attributes()).containsEntry("peft.job_id", jobId);
      StoredSpan command = one(spans, "jobs", "producer", "peft.job-commands publish");
      assertThat(command.parentSpanId()).as("the outbox relay sends in the request's trace").isEqualTo(post.spanId());
      assertThat(command.attributes()).containsEntry("messaging.kafka.message.key", jobId).containsEntry("peft.event_type", "JobSubmitted");
      StoredSpan consumed = one(spans, "training", "consumer", "peft.job-commands process");
      assertThat(consumed.parentSpanId()).isEqualTo(command.spanId());
      StoredSpan run = one(spans, "training", "internal", "training job");
      assertThat(run.parentSpanId()).isEqualTo(consumed.spanId());
      assertThat(run.attributes()).containsEntry("peft.job_id", jobId).containsEntry("peft.tenant", tenant);
      for (String stage : List.of("attempt", "control catch-up", "fetch inputs", "prepare run", "checkpoint lookup")) {
        assertThat(one(spans, "training", "internal", stage).parentSpanId()).as("the job's stage %s", stage).isEqualTo(run.spanId());
      }
      StoredSpan outcome = spans.stream().filter(s -> s.name().equals("peft.job-events publish")
          && "JobSucceeded".equals(s.attributes().get("peft.event_type"))).findFirst().orElseThrow();
      assertThat(outcome.service()).isEqualTo("training");
      assertThat(outcome.parentSpanId()).as("the final event is sent inside the job's span").isEqualTo(run.spanId());
      for (String reader : List.of("jobs", "artifacts")) {
        StoredSpan read = spans.stream().filter(s -> s.service().equals(reader) && s.name().equals("peft.job-events process")
            && "JobSucceeded".equals(s.attributes().get("peft.event_type"))).findFirst().orElseThrow(() -> new AssertionError(reader + " read no JobSucceeded"));
        assertThat(read.parentSpanId()).as(reader + " reads the final event in its trace").isEqualTo(outcome.spanId());
      }
      assertThat(spans).extracting(StoredSpan::status).doesNotContain("error");
      assertThat(spans).as("only the platform's own spans for events (the Kafka connector's are off)")
          .noneMatch(s -> s.name().endsWith(" receive"));
    });
    // Untraced events (progress, heartbeats) start no trace of their own.
    for (String traceId : traces.traceIds()) {
      List<StoredSpan> spans = traces.trace(traceId);
      assertThat(spans).as("trace %s", traceId).noneMatch(s -> s.parentSpanId() == null && s.kind().equals("consumer"));
    }
    String traceId = traces.tracesAbout(jobId).get(0);
    // Whichever worker ran it (earlier tests start, kill and replace workers).
    List<String> lines = new java.util.ArrayList<>();
    try (var logs = Files.newDirectoryStream(RunningStack.get().dataDir().resolve("logs"), "training-*.log")) {
      for (Path log : logs) {
        lines.addAll(Files.readAllLines(log));
      }
    }
    assertThat(lines).as("the worker's log line of the job carries its trace id")
        .anyMatch(line -> line.contains("[" + traceId + "]") && line.contains("running job " + jobId));
  }

  private static StoredSpan one(List<StoredSpan> spans, String service, String kind, String name) {
    List<StoredSpan> found = spans.stream().filter(s -> s.service().equals(service) && s.kind().equals(kind) && s.name().equals(name)).toList();
    assertThat(found).as("%s %s span %s among %s", service, kind, name, spans.stream().map(s -> s.service() + ":" + s.name()).toList())
        .hasSize(1);
    return found.get(0);
  }
}

package io.peftplatform.jobs;

import static io.peftplatform.jobs.JobLifecycleTest.artifacts;
import static io.peftplatform.jobs.JobLifecycleTest.awaitStatus;
import static io.peftplatform.jobs.JobLifecycleTest.createJob;
import static io.peftplatform.jobs.TestResources.keyFor;
import static io.peftplatform.jobs.TestResources.with;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import io.peftplatform.events.EventCodec;
import io.peftplatform.events.JobFailed;
import io.peftplatform.events.JobStarted;
import io.peftplatform.events.JobSucceeded;
import io.peftplatform.events.Topics;
import io.peftplatform.testsupport.EventLog;
import io.peftplatform.testsupport.PrometheusScrape;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The jobs service's /q/metrics after real traffic: jobs by status and tenant, the HTTP routes with their
 * latency histograms, the outbox, a record that went to the dead-letter topic, and the Kafka consumers.
 */
@QuarkusTest
class MetricsTest {
  static final String TOKEN = org.eclipse.microprofile.config.ConfigProvider.getConfig().getValue("peft.internal-token", String.class);

  static PrometheusScrape scrape() {
    return PrometheusScrape.parse(given().header("Authorization", "Bearer " + TOKEN).get("/q/metrics").then().statusCode(200).extract().asString());
  }

  @Test
  void theMetricsAreTheOperatorsNotTheTenants() {
    given().get("/q/metrics").then().statusCode(401).contentType("application/problem+json");
    given().header("Authorization", "Bearer " + keyFor("metrics-reader")).get("/q/metrics").then().statusCode(401);
    given().header("Authorization", "Bearer " + TOKEN + "x").get("/q/metrics").then().statusCode(401);
    given().get("/q/health/ready").then().statusCode(200); // the probes stay open
  }

  @Test
  void jobsRoutesOutboxAndDeadLettersAreMeasured() {
    String tenant = JobLifecycleTest.unique("metrics");
    String key = keyFor(tenant);
    JobLifecycleTest.Artifacts a = artifacts(tenant, "ready");
    String succeeded = createJob(key, a);
    String failed = createJob(key, a);
    String queued = createJob(key, a);
    awaitStatus(key, queued, "queued");
    EventLog.publish(Topics.JOB_EVENTS, new JobStarted(EventCodec.newId(), Instant.now(), succeeded, tenant, "worker-1", 10, 20, 0, 1));
    EventLog.publish(Topics.JOB_EVENTS, new JobSucceeded(EventCodec.newId(), Instant.now(), succeeded, tenant, a.model(), "dora",
        List.of(JobLifecycleTest.FILE), 1234, Map.of("train_loss", 1.9), "completed"));
    EventLog.publish(Topics.JOB_EVENTS, new JobFailed(EventCodec.newId(), Instant.now(), failed, tenant, "internal_error", "boom"));
    awaitStatus(key, succeeded, "succeeded");
    awaitStatus(key, failed, "failed");
    with(key).get("/v1/fine_tuning/jobs/ftjob-none").then().statusCode(404);
    double deadBefore = scrape().sum("peft_dead_letters_total", Map.of("topic", Topics.JOB_EVENTS + ".jobs.dlq"));
    EventLog.publishRaw(Topics.JOB_EVENTS, "job-x", "not an event");

    Awaitility.await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      PrometheusScrape m = scrape();
      Map<String, String> jobs = Map.of("application", "jobs", "tenant", tenant);
      assertThat(m.value("peft_jobs", plus(jobs, "status", "succeeded"))).as("%s", m.all("peft_jobs", Map.of())).hasValue(1.0);
      assertThat(m.value("peft_jobs", plus(jobs, "status", "failed"))).hasValue(1.0);
      assertThat(m.value("peft_jobs", plus(jobs, "status", "queued"))).hasValue(1.0);
      assertThat(m.value("peft_jobs", plus(jobs, "status", "running"))).as("every status is a series").hasValue(0.0);
      assertThat(m.sum("peft_dead_letters_total", Map.of("topic", Topics.JOB_EVENTS + ".jobs.dlq", "channel", "job-events")))
          .isEqualTo(deadBefore + 1);
    });

    PrometheusScrape m = scrape();
    Map<String, String> create = Map.of("application", "jobs", "method", "POST", "uri", "/v1/fine_tuning/jobs", "status", "200");
    assertThat(m.sum("http_server_requests_seconds_count", create)).isGreaterThanOrEqualTo(3);
    assertThat(m.all("http_server_requests_seconds_bucket", create)).as("latency histograms").isNotEmpty();
    assertThat(m.sum("http_server_requests_seconds_count", Map.of("uri", "/v1/fine_tuning/jobs/{id}", "status", "404")))
        .as("routes by their template, not each id").isGreaterThanOrEqualTo(1);
    assertThat(m.value("peft_outbox_backlog", Map.of("application", "jobs"))).isPresent();
    assertThat(m.value("peft_outbox_oldest_age_seconds", Map.of("application", "jobs")).orElseThrow()).isBetween(0.0, 60.0);
    assertThat(m.value("peft_outbox_parked", Map.of("application", "jobs"))).isPresent();
    assertThat(m.all("kafka_consumer_fetch_manager_records_lag_max", Map.of("application", "jobs"))).as("the consumers' lag").isNotEmpty();
    assertThat(m.all("jvm_memory_used_bytes", Map.of("application", "jobs"))).isNotEmpty();
  }

  static Map<String, String> plus(Map<String, String> labels, String key, String value) {
    Map<String, String> out = new java.util.HashMap<>(labels);
    out.put(key, value);
    return out;
  }
}

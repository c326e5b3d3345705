package io.peftplatform.jobs;

import static io.peftplatform.jobs.JobLifecycleTest.artifacts;
import static io.peftplatform.jobs.JobLifecycleTest.awaitStatus;
import static io.peftplatform.jobs.JobLifecycleTest.createJob;
import static io.peftplatform.jobs.TestResources.keyFor;
import static io.peftplatform.jobs.TestResources.with;
import static org.assertj.core.api.Assertions.assertThat;

import io.peftplatform.events.EventCodec;
import io.peftplatform.events.JobHeartbeat;
import io.peftplatform.events.JobStarted;
import io.peftplatform.events.JobSubmitted;
import io.peftplatform.events.JobSucceeded;
import io.peftplatform.events.Topics;
import io.peftplatform.events.TrainingProgressed;
import io.peftplatform.testsupport.EventLog;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * What the jobs service does when workers misbehave: one that stops reporting, two attempts reporting the
 * same steps, a tenant starting more jobs than it may run at once, hundreds of clients following events.
 */
@QuarkusTest
class JobFaultsTest {
  private static List<String> messages(String key, String job) {
    return with(key).get("/v1/fine_tuning/jobs/" + job + "/events?limit=1000").jsonPath().getList("data.message");
  }

  private static TrainingProgressed progress(String job, String tenant, int step) {
    return new TrainingProgressed(EventCodec.newId(), Instant.now(), job, tenant, step, 100, 0.1, 2.0, null, 1e-4, 100, 10, Map.of());
  }

  @Test
  void aJobWhoseWorkerStopsReportingIsShownQueuedAndRunsAgainWhenResumed() {
    String key = keyFor("stall");
    String job = createJob(key, artifacts("stall", "ready"));
    awaitStatus(key, job, "queued");
    EventLog.publish(Topics.JOB_EVENTS, new JobStarted(EventCodec.newId(), Instant.now(), job, "stall", "worker-a", 100, 20, 0, 1));
    awaitStatus(key, job, "running");
    EventLog.publish(Topics.JOB_EVENTS, new JobHeartbeat(EventCodec.newId(), Instant.now(), job, "stall", "worker-a", "training", 3));

    // No report for longer than the lease (4 s in tests): queued again, with the reason.
    var stalled = awaitStatus(key, job, "queued");
    assertThat(stalled.getLong("stalled_at")).isPositive();
    assertThat(messages(key, job)).anyMatch(m -> m.startsWith("No report from worker worker-a for 4 s"));

    // Another worker takes it over from its checkpoint.
    EventLog.publish(Topics.JOB_EVENTS, new JobStarted(EventCodec.newId(), Instant.now(), job, "stall", "worker-b", 100, 20, 25, 2));
    var resumed = awaitStatus(key, job, "running");
    assertThat(resumed.getString("worker")).isEqualTo("worker-b");
    assertThat(resumed.getInt("attempt")).isEqualTo(2);
    assertThat(resumed.getString("stalled_at")).isNull();
    assertThat(messages(key, job)).contains("Resumed on worker-b from step 25 of 100 (attempt 2)");
  }

  @Test
  void aWorkerThatWasOnlySlowIsRunningAgainWhenItReports() {
    String key = keyFor("slow");
    String job = createJob(key, artifacts("slow", "ready"));
    EventLog.publish(Topics.JOB_EVENTS, new JobStarted(EventCodec.newId(), Instant.now(), job, "slow", "worker-a", 100, 20, 0, 1));
    awaitStatus(key, job, "running");
    awaitStatus(key, job, "queued");
    EventLog.publish(Topics.JOB_EVENTS, new JobHeartbeat(EventCodec.newId(), Instant.now(), job, "slow", "worker-a", "training", 9));
    awaitStatus(key, job, "running");
    assertThat(messages(key, job)).contains("Worker worker-a is reporting again");
  }

  @Test
  void stepsReportedTwiceByTwoAttemptsAreLoggedOnce() {
    String key = keyFor("dedupe");
    String job = createJob(key, artifacts("dedupe", "ready"));
    EventLog.publish(Topics.JOB_EVENTS, new JobStarted(EventCodec.newId(), Instant.now(), job, "dedupe", "worker-a", 100, 20, 0, 1));
    for (int step : new int[] {1, 2, 3}) {
      EventLog.publish(Topics.JOB_EVENTS, progress(job, "dedupe", step));
    }
    // The second attempt resumed from a checkpoint at step 2 and goes over step 3 again.
    EventLog.publish(Topics.JOB_EVENTS, new JobStarted(EventCodec.newId(), Instant.now(), job, "dedupe", "worker-b", 100, 20, 2, 2));
    for (int step : new int[] {3, 4}) {
      EventLog.publish(Topics.JOB_EVENTS, progress(job, "dedupe", step));
    }
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> messages(key, job).stream().anyMatch(m -> m.startsWith("Step 4/100")));
    List<String> steps = messages(key, job).stream().filter(m -> m.startsWith("Step ")).map(m -> m.substring(0, m.indexOf(':'))).toList();
    assertThat(steps).containsExactly("Step 1/100", "Step 2/100", "Step 3/100", "Step 4/100");
  }

  @Test
  void aTenantRunsAtMostItsLimitOfJobsAndTheRestWaitQueued() {
    String key = keyFor("busy-tenant");
    List<String> jobs = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      jobs.add(createJob(key, artifacts("busy-tenant", "ready")));
    }
    for (String job : jobs) {
      awaitStatus(key, job, "queued");
    }
    // The limit is 2 in tests: two are sent to the workers, the third waits for a slot.
    EventLog.await(Topics.JOB_COMMANDS, JobSubmitted.class, jobs.get(0), 1, Duration.ofSeconds(30));
    EventLog.await(Topics.JOB_COMMANDS, JobSubmitted.class, jobs.get(1), 1, Duration.ofSeconds(30));
    assertThat(EventLog.awaitAll(Topics.JOB_COMMANDS, JobSubmitted.class, jobs.get(2), Duration.ofSeconds(3))).isEmpty();
    assertThat(messages(key, jobs.get(2))).anyMatch(m -> m.contains("waiting for one of this tenant's 2 running jobs to finish"));
    // Another tenant is not held up by it.
    String otherKey = keyFor("calm-tenant");
    String other = createJob(otherKey, artifacts("calm-tenant", "ready"));
    EventLog.await(Topics.JOB_COMMANDS, JobSubmitted.class, other, 1, Duration.ofSeconds(30));

    // One finishes: the waiting one goes.
    EventLog.publish(Topics.JOB_EVENTS, new JobStarted(EventCodec.newId(), Instant.now(), jobs.get(0), "busy-tenant", "w", 2, 2, 0, 1));
    EventLog.publish(Topics.JOB_EVENTS, new JobSucceeded(EventCodec.newId(), Instant.now(), jobs.get(0), "busy-tenant", "m", "lora",
        List.of(JobLifecycleTest.FILE), 10, Map.of("steps", 2.0), "completed"));
    EventLog.await(Topics.JOB_COMMANDS, JobSubmitted.class, jobs.get(2), 1, Duration.ofSeconds(30));
    assertThat(messages(key, jobs.get(2))).contains("A slot is free; job queued");
  }

  /** Streams hold no thread: 300 clients follow a job, and the API still answers at once. */
  @Test
  void threeHundredLiveStreamsLeaveTheApiAnswering() throws Exception {
    String key = keyFor("followers");
    String job = createJob(key, artifacts("followers", "ready"));
    EventLog.publish(Topics.JOB_EVENTS, new JobStarted(EventCodec.newId(), Instant.now(), job, "followers", "w", 2, 2, 0, 1));
    awaitStatus(key, job, "running");
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    URI events = URI.create(RestAssured.baseURI + ":" + RestAssured.port + "/v1/fine_tuning/jobs/" + job + "/events");
    List<CompletableFuture<HttpResponse<Stream<String>>>> streams = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      streams.add(http.sendAsync(HttpRequest.newBuilder(events).header("Authorization", "Bearer " + key)
          .header("Accept", "text/event-stream").build(), HttpResponse.BodyHandlers.ofLines()));
    }
    for (var s : streams) {
      assertThat(s.get(60, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    }
    long t0 = System.nanoTime();
    with(key).get("/v1/fine_tuning/jobs/" + job).then().statusCode(200);
    with(key).get("/v1/fine_tuning/jobs?limit=5").then().statusCode(200);
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("the API answers with 300 streams open").isLessThan(Duration.ofSeconds(5));

    // The job ends: every stream gets the last event and closes.
    EventLog.publish(Topics.JOB_EVENTS, new JobSucceeded(EventCodec.newId(), Instant.now(), job, "followers", "m", "lora",
        List.of(JobLifecycleTest.FILE), 10, Map.of("steps", 2.0), "completed"));
    for (var s : streams) {
      List<String> lines = s.get(60, TimeUnit.SECONDS).body().toList();
      assertThat(lines).anyMatch(l -> l.contains("Job succeeded"));
    }
  }
}

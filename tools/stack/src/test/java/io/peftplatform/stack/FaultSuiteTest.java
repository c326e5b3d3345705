package io.peftplatform.stack;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftplatform.client.PeftApiException;
import io.peftplatform.client.PeftClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The fault suite: the real local stack, and its parts killed with SIGKILL while jobs and merges run —
 * a training worker (5 times), the broker, PostgreSQL, the S3 server (3 times each), a merging worker (once
 * mid learned merge, then 3 times) — then object storage away for 60 s during a job, and the broker away while a worker starts.
 * Each time, every job and merge must reach its final state by itself, resumed from its last checkpoint,
 * with an event log free of duplicates and gaps, and one adapter registered per job. The figures (what
 * was killed, how often, what survived, how long recovery took) are written to
 * target/fault-suite.md; docs/reliability.md keeps a run's.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultSuiteTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final Duration FINISH = Duration.ofMinutes(4);
  static PeftClient client;
  static String modelId;
  static String datasetId;
  static final List<String> figures = new ArrayList<>();

  @BeforeAll
  static void registerModelAndData() {
    client = RunningStack.tenant("e2e-faults");
    modelId = client.uploadModel(RunningStack.tinyModel(), "tiny").path("id").asText();
    assertThat(RunningStack.ready(client, modelId).path("status").asText()).isEqualTo("ready");
    datasetId = client.uploadDataset(DemoContent.dataset(), "opposites.jsonl").path("id").asText();
    figures.add("| what was killed | times | jobs / merges | final state | resumed from a checkpoint | recovery (kill → running again), s | kill → final state, s |");
    figures.add("|---|---|---|---|---|---|---|");
  }

  @AfterAll
  static void writeFigures() throws IOException {
    client.close();
    Path out = Path.of("target/fault-suite.md");
    Files.createDirectories(out.getParent());
    Files.writeString(out, String.join("\n", figures) + "\n");
    System.out.println(String.join("\n", figures));
    // The stack is whole again for whatever runs after.
    Stack stack = RunningStack.get();
    for (String part : stack.parts()) {
      awaitTrue("part " + part + " up", () -> stack.isUp(part), Duration.ofMinutes(2));
    }
  }

  static String createJob(int steps, int checkpointEvery) {
    ObjectNode request = JSON.createObjectNode().put("model", modelId).put("training_file", datasetId).put("seed", 5);
    request.putObject("adapter").put("type", "lora");
    request.putObject("hyperparameters").put("max_steps", steps).put("batch_size", 4).put("learning_rate", 1e-3)
        .put("checkpoint_every", checkpointEvery);
    return retrying(() -> client.createJob(request)).path("id").asText();
  }

  /** A call the API may answer 503 to while a backend restarts: tried again for a while. */
  static JsonNode retrying(java.util.function.Supplier<JsonNode> call) {
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    while (true) {
      try {
        return call.get();
      } catch (PeftApiException e) {
        if ((e.status() != 503 && e.status() != 0 && e.status() != 502) || System.nanoTime() > deadline) {
          throw e;
        }
        RunningStack.sleep(500);
      }
    }
  }

  static JsonNode job(String id) {
    return retrying(() -> client.getJob(id));
  }

  static JsonNode awaitJob(String id, Predicate<JsonNode> condition, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      JsonNode j = job(id);
      if (condition.test(j)) {
        return j;
      }
      assertThat(System.nanoTime()).as("job %s did not get there in time: %s", id, j).isLessThan(deadline);
      RunningStack.sleep(200);
    }
  }

  static void awaitTrue(String what, java.util.function.BooleanSupplier condition, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as(what).isLessThan(deadline);
      RunningStack.sleep(200);
    }
  }

  static boolean terminal(JsonNode j) {
    return PeftClient.TERMINAL.contains(j.path("status").asText());
  }

  static List<JsonNode> events(String id) {
    List<JsonNode> out = new ArrayList<>();
    String after = null;
    while (true) {
      String cursor = after;
      JsonNode page = retrying(() -> client.jobEvents(id, cursor, 1000));
      page.path("data").forEach(out::add);
      if (!page.path("has_more").asBoolean()) {
        return out;
      }
      after = out.get(out.size() - 1).path("id").asText();
    }
  }

  /**
   * What every job that lived through a fault owes: it succeeded with every step trained, its step
   * metrics rise strictly (no step twice, none out of order), it started once and succeeded once, and one
   * adapter is registered for it.
   */
  static void assertWhole(String id, JsonNode job, int steps) {
    List<JsonNode> log = events(id);
    List<String> messages = log.stream().map(e -> e.path("message").asText()).toList();
    assertThat(job.path("status").asText()).as("%s: %s", id, messages).isEqualTo("succeeded");
    assertThat(job.path("trained_steps").asInt()).isEqualTo(steps);
    List<Integer> metricSteps = log.stream().filter(e -> e.path("type").asText().equals("metrics"))
        .map(e -> e.path("data").path("step").asInt()).toList();
    for (int i = 1; i < metricSteps.size(); i++) {
      assertThat(metricSteps.get(i)).as("step metrics of %s: %s", id, metricSteps).isGreaterThan(metricSteps.get(i - 1));
    }
    assertThat(metricSteps).as("the last step is reported").endsWith(steps);
    assertThat(messages.stream().filter(m -> m.startsWith("Started on "))).hasSize(1);
    assertThat(messages.stream().filter(m -> m.startsWith("Job succeeded"))).hasSize(1);
    assertThat(log.stream().map(e -> e.path("id").asText()).distinct().count()).isEqualTo(log.size());
    // The registry hears of the adapter from the same event, in its own time.
    String adapter = job.path("fine_tuned_model").asText();
    awaitTrue("adapter " + adapter + " registered", () -> {
      try {
        return retrying(() -> client.getAdapter(adapter)).path("job_id").asText().equals(id);
      } catch (PeftApiException e) {
        return false;
      }
    }, Duration.ofMinutes(1));
    List<JsonNode> adapters = PeftClient.all(after -> retrying(() -> client.listAdapters(after, 100)));
    assertThat(adapters.stream().filter(a -> a.path("job_id").asText().equals(id))).hasSize(1);
  }

  static boolean resumed(String id) {
    return events(id).stream().anyMatch(e -> e.path("message").asText().matches("Resumed on .* from step [1-9]\\d* of .*"));
  }

  /** Kills a part while a job runs (after its first checkpoints), {@code times} times, one job each. */
  private void killDuringJobs(String part, int times, int steps, boolean partIsTheJobsWorker) {
    Stack stack = RunningStack.get();
    List<Double> recovery = new ArrayList<>();
    List<Double> toEnd = new ArrayList<>();
    int resumedCount = 0;
    for (int i = 0; i < times; i++) {
      String id = createJob(steps, 10);
      awaitJob(id, j -> j.path("status").asText().equals("running") && retrying(() -> client.jobCheckpoints(id)).path("data").size() >= 2,
          FINISH);
      String victim = partIsTheJobsWorker ? job(id).path("worker").asText() : part;
      int trainedAtKill = job(id).path("trained_steps").asInt();
      int restarts = stack.restarts(victim);
      long t0 = System.nanoTime();
      stack.kill(victim);
      awaitTrue(victim + " restarted", () -> stack.restarts(victim) > restarts && stack.isUp(victim), Duration.ofMinutes(2));
      // Running again: steps past where it was when the part died.
      awaitJob(id, j -> terminal(j) || (j.path("status").asText().equals("running") && j.path("trained_steps").asInt() > trainedAtKill),
          FINISH);
      recovery.add((System.nanoTime() - t0) / 1e9);
      JsonNode done = awaitJob(id, FaultSuiteTest::terminal, FINISH);
      toEnd.add((System.nanoTime() - t0) / 1e9);
      assertWhole(id, done, steps);
      if (resumed(id)) {
        resumedCount++;
      }
    }
    if (partIsTheJobsWorker) {
      assertThat(resumedCount).as("every job of a killed worker resumes from a checkpoint").isEqualTo(times);
    }
    figures.add(String.format(Locale.ROOT, "| %s (SIGKILL mid-job) | %d | %d jobs | %d succeeded | %d of %d | %s | %s |", part, times, times,
        times, resumedCount, times, range(recovery), range(toEnd)));
  }

  static String range(List<Double> seconds) {
    double min = seconds.stream().mapToDouble(Double::doubleValue).min().orElse(0);
    double max = seconds.stream().mapToDouble(Double::doubleValue).max().orElse(0);
    return String.format(Locale.ROOT, "%.1f–%.1f", min, max);
  }

  @Test
  @Order(1)
  void aTrainingWorkerKilledMidJobFiveTimes() {
    killDuringJobs("training worker", 5, 120, true);
  }

  @Test
  @Order(2)
  void theBrokerKilledMidJobThreeTimes() {
    killDuringJobs("kafka", 3, 120, false);
  }

  @Test
  @Order(3)
  void postgresKilledMidJobThreeTimes() {
    killDuringJobs("postgres", 3, 120, false);
    // The API answers again (its pool dropped the dead connections).
    assertThat(retrying(() -> client.listJobs(null, null, 5)).path("object").asText()).isEqualTo("list");
  }

  @Test
  @Order(4)
  void theS3ServerKilledMidJobThreeTimes() {
    killDuringJobs("s3", 3, 120, false);
  }

  @Test
  @Order(6)
  void aMergingWorkerKilledMidMergeThreeTimes() {
    Stack stack = RunningStack.get();
    String job = createJob(4, 0);
    String adapter = awaitJob(job, FaultSuiteTest::terminal, FINISH).path("fine_tuned_model").asText();
    List<Double> toEnd = new ArrayList<>();
    Set<String> outputs = new HashSet<>();
    for (int i = 0; i < 3; i++) {
      ObjectNode request = JSON.createObjectNode().put("model", modelId).put("method", "linear").put("name", "fault-merge-" + i);
      request.putArray("adapters").addObject().put("id", adapter).put("weight", 1.0);
      String merge = retrying(() -> client.createMerge(request)).path("id").asText();
      int restarts = stack.restarts("merging");
      long t0 = System.nanoTime();
      stack.kill("merging");
      awaitTrue("merging restarted", () -> stack.restarts("merging") > restarts && stack.isUp("merging"), Duration.ofMinutes(2));
      JsonNode done = awaitMerge(merge);
      toEnd.add((System.nanoTime() - t0) / 1e9);
      assertThat(done.path("status").asText()).as(done.toString()).isEqualTo("succeeded");
      String output = done.path("output_id").asText();
      outputs.add(output);
      assertThat(retrying(() -> client.getModel(output)).path("status").asText()).isEqualTo("ready");
      long registered = PeftClient.all(after -> retrying(() -> client.listModels(after, 100))).stream()
          .filter(m -> m.path("id").asText().equals(output)).count();
      assertThat(registered).as("the merged model is registered once").isEqualTo(1);
    }
    assertThat(outputs).hasSize(3);
    figures.add(String.format(Locale.ROOT, "| merging worker (SIGKILL right after the merge was requested) | 3 | 3 merges | 3 succeeded | — | — | %s |",
        range(toEnd)));
  }

  /**
   * A learned merge whose worker is killed once it has run long enough to save its state
   * ({@code peft.learned-state-interval}, 10 s): the restarted worker takes it up from that state
   * ({@code progress.resumed_from}), not from step 0; then it is stopped.
   */
  @Test
  @Order(5)
  void aMergingWorkerKilledMidLearnedMergeResumesFromItsSavedState() {
    Stack stack = RunningStack.get();
    String adapter = awaitJob(createJob(4, 0), FaultSuiteTest::terminal, FINISH).path("fine_tuned_model").asText();
    ObjectNode request = JSON.createObjectNode().put("model", modelId).put("method", "ada_merging").put("calibration_file", datasetId);
    request.putArray("adapters").addObject().put("id", adapter);
    request.putObject("hyperparameters").put("steps", 10_000).put("batch_size", 2).put("max_seq_len", 32);
    String merge = retrying(() -> client.createMerge(request)).path("id").asText();
    awaitTrue("the learned merge runs", () -> retrying(() -> client.getMerge(merge)).path("status").asText().equals("running"), FINISH);
    RunningStack.sleep(13_000); // past the first saved state
    int before = retrying(() -> client.getMerge(merge)).at("/progress/step").asInt();
    int restarts = stack.restarts("merging");
    long t0 = System.nanoTime();
    stack.kill("merging");
    awaitTrue("merging restarted", () -> stack.restarts("merging") > restarts && stack.isUp("merging"), Duration.ofMinutes(2));
    awaitTrue("the merge resumed from its saved state",
        () -> retrying(() -> client.getMerge(merge)).at("/progress/resumed_from").asInt() > 0, FINISH);
    double recovery = (System.nanoTime() - t0) / 1e9;
    JsonNode resumed = retrying(() -> client.getMerge(merge));
    int from = resumed.at("/progress/resumed_from").asInt();
    assertThat(from).as("resumed near where it was killed (step %d)", before).isPositive().isLessThanOrEqualTo(before + 1000);
    assertThat(resumed.path("status").asText()).isEqualTo("running");
    retrying(() -> client.cancelMerge(merge));
    assertThat(awaitMerge(merge).path("status").asText()).isEqualTo("cancelled");
    figures.add(String.format(Locale.ROOT, "| merging worker (SIGKILL mid learned merge, step %d) | 1 | 1 learned merge | running, then cancelled"
        + " | yes (step %d) | %.1f | — |", before, from, recovery));
  }

  static JsonNode awaitMerge(String id) {
    long deadline = System.nanoTime() + FINISH.toNanos();
    while (true) {
      JsonNode m = retrying(() -> client.getMerge(id));
      if (!m.path("status").asText().equals("queued") && !m.path("status").asText().equals("running")) {
        return m;
      }
      assertThat(System.nanoTime()).as("merge %s did not finish: %s", id, m).isLessThan(deadline);
      RunningStack.sleep(300);
    }
  }

  @Test
  @Order(7)
  void objectStorageAwayForSixtySecondsDuringAJob() {
    Stack stack = RunningStack.get();
    int steps = 200;
    String id = createJob(steps, 10);
    awaitJob(id, j -> j.path("status").asText().equals("running") && j.path("trained_steps").asInt() >= 5, FINISH);
    long t0 = System.nanoTime();
    stack.hold("s3");
    RunningStack.sleep(60_000);
    stack.release("s3");
    awaitTrue("s3 back", () -> stack.isUp("s3"), Duration.ofMinutes(2));
    long back = System.nanoTime();
    JsonNode done = awaitJob(id, FaultSuiteTest::terminal, FINISH);
    assertWhole(id, done, steps);
    figures.add(String.format(Locale.ROOT, "| S3 server away for 60 s during a job | 1 | 1 job | 1 succeeded | %s | — | %.1f (60 s away, then %.1f) |",
        resumed(id) ? "yes" : "not needed (it waited)", (System.nanoTime() - t0) / 1e9, (System.nanoTime() - back) / 1e9));
  }

  @Test
  @Order(8)
  void theBrokerAwayWhileAWorkerStarts() {
    Stack stack = RunningStack.get();
    String worker = stack.parts().stream().filter(p -> p.startsWith("training-")).findFirst().orElseThrow();
    stack.hold("kafka");
    int restarts = stack.restarts(worker);
    stack.kill(worker);
    // The worker starts again while the broker is away.
    awaitTrue(worker + " restarted without a broker", () -> stack.restarts(worker) > restarts && stack.isUp(worker), Duration.ofMinutes(2));
    RunningStack.sleep(10_000);
    long t0 = System.nanoTime();
    stack.release("kafka");
    awaitTrue("kafka back", () -> stack.isUp("kafka"), Duration.ofMinutes(2));
    String id = createJob(20, 0);
    JsonNode done = awaitJob(id, FaultSuiteTest::terminal, FINISH);
    assertWhole(id, done, 20);
    figures.add(String.format(Locale.ROOT, "| broker away while a training worker starts (held 10 s after it was up) | 1 | 1 job | 1 succeeded | — | — | %.1f (broker back → job done) |",
        (System.nanoTime() - t0) / 1e9));
  }
}

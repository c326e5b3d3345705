package io.peftplatform.stack;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftplatform.client.PeftClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Jobs under stress: cancelled mid-run; a worker killed mid-job, started again by the stack, resuming the
 * job from its last checkpoint; a job submitted while no worker runs, started when one appears.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class JobControlTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static PeftClient client;
  static String modelId;
  static String datasetId;

  @BeforeAll
  static void registerModelAndData() {
    client = RunningStack.tenant("e2e-control");
    modelId = client.uploadModel(RunningStack.tinyModel(), "tiny").path("id").asText();
    assertThat(RunningStack.ready(client, modelId).path("status").asText()).isEqualTo("ready");
    datasetId = client.uploadDataset(DemoContent.dataset(), "opposites.jsonl").path("id").asText();
  }

  @AfterAll
  static void close() {
    client.close();
  }

  private static String createJob(int maxSteps, int checkpointEvery) {
    ObjectNode request = JSON.createObjectNode().put("model", modelId).put("training_file", datasetId).put("seed", 3);
    request.putObject("adapter").put("type", "lora");
    request.putObject("hyperparameters").put("max_steps", maxSteps).put("batch_size", 4).put("learning_rate", 1e-3)
        .put("checkpoint_every", checkpointEvery);
    return client.createJob(request).path("id").asText();
  }

  private static JsonNode awaitJob(String id, java.util.function.Predicate<JsonNode> condition, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      JsonNode job = client.getJob(id);
      if (condition.test(job)) {
        return job;
      }
      assertThat(System.nanoTime()).as("job %s did not get there in time: %s", id, job).isLessThan(deadline);
      RunningStack.sleep(200);
    }
  }

  private static List<String> messages(String id) {
    List<String> out = new ArrayList<>();
    PeftClient.all(after -> client.jobEvents(id, after, 100)).forEach(e -> out.add(e.path("message").asText()));
    return out;
  }

  @Test
  @Order(1)
  void cancelStopsARunningJobWithinAStep() {
    String id = createJob(1_000_000, 1_000_000);
    awaitJob(id, j -> j.path("trained_steps").asInt() > 0, RunningStack.JOB_TIMEOUT);

    JsonNode cancelling = client.cancelJob(id);
    assertThat(cancelling.path("cancel_requested").asBoolean()).isTrue();
    JsonNode cancelled = awaitJob(id, j -> PeftClient.TERMINAL.contains(j.path("status").asText()), Duration.ofSeconds(30));

    assertThat(cancelled.path("status").asText()).isEqualTo("cancelled");
    assertThat(cancelled.path("trained_steps").asInt()).isBetween(1, 999_999);
    assertThat(cancelled.path("fine_tuned_model").isNull()).isTrue();
    assertThat(messages(id)).anyMatch(m -> m.startsWith("Job cancelled after "));
    // Cancelling what has ended is refused, not a 500.
    assertThat(org.assertj.core.api.Assertions.catchThrowableOfType(io.peftplatform.client.PeftApiException.class,
        () -> client.cancelJob(id)).status()).isEqualTo(409);
  }

  @Test
  @Order(2)
  void aWorkerKilledMidJobIsStartedAgainAndTheJobResumesFromItsLastCheckpoint() {
    Stack stack = RunningStack.get();
    String id = createJob(400, 25);
    awaitJob(id, j -> client.jobCheckpoints(id).path("data").size() >= 2, RunningStack.JOB_TIMEOUT);

    String worker = client.getJob(id).path("worker").asText();
    int restarts = stack.restarts(worker);
    stack.kill(worker);
    JsonNode job = awaitJob(id, j -> PeftClient.TERMINAL.contains(j.path("status").asText()), RunningStack.JOB_TIMEOUT);
    assertThat(stack.restarts(worker)).isEqualTo(restarts + 1);

    assertThat(job.path("status").asText()).as(messages(id).toString()).isEqualTo("succeeded");
    assertThat(job.path("trained_steps").asInt()).isEqualTo(400);
    assertThat(messages(id)).anyMatch(m -> m.matches("Resumed on training-\\d+ from step [1-9]\\d* of 400 \\(attempt 2\\)"));
    assertThat(messages(id).stream().filter(m -> m.startsWith("Job succeeded"))).hasSize(1);
  }

  @Test
  @Order(3)
  void aJobSubmittedWhileNoWorkerRunsStartsWhenOneAppears() {
    Stack stack = RunningStack.get();
    while (stack.workerCount() > 0) {
      stack.stopWorker(stack.workerCount() - 1, false);
    }
    String id = createJob(5, 0);
    RunningStack.sleep(4000);
    assertThat(client.getJob(id).path("status").asText()).isEqualTo("queued");

    stack.startWorker();
    JsonNode job = awaitJob(id, j -> PeftClient.TERMINAL.contains(j.path("status").asText()), RunningStack.JOB_TIMEOUT);
    assertThat(job.path("status").asText()).isEqualTo("succeeded");
  }
}

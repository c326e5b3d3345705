package io.peftplatform.jobs;

import static io.peftplatform.jobs.TestResources.keyFor;
import static io.peftplatform.jobs.TestResources.with;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;

import io.peftplatform.events.CheckpointSaved;
import io.peftplatform.events.DatasetChanged;
import io.peftplatform.events.EventCodec;
import io.peftplatform.events.JobCancelRequested;
import io.peftplatform.events.JobCancelled;
import io.peftplatform.events.JobFailed;
import io.peftplatform.events.JobStarted;
import io.peftplatform.events.JobSubmitted;
import io.peftplatform.events.JobSucceeded;
import io.peftplatform.events.ModelChanged;
import io.peftplatform.events.ObjectRef;
import io.peftplatform.events.Topics;
import io.peftplatform.events.TrainingProgressed;
import io.peftplatform.testsupport.EventLog;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The job state machine end to end through Kafka: the artifacts service and the workers are played by
 * events published here (their own services are tested against the same events).
 */
@QuarkusTest
class JobLifecycleTest {
  static final ObjectRef FILE = new ObjectRef("tenants/t/x", "ab".repeat(32), 10);

  static String unique(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
  }

  /** A model and a dataset the artifacts service announced. */
  record Artifacts(String model, String file) {}

  static Artifacts artifacts(String tenant, String modelStatus) {
    String model = unique("model");
    String file = unique("file");
    EventLog.publish(Topics.ARTIFACT_EVENTS, new ModelChanged(EventCodec.newId(), Instant.now(), model, tenant, "tiny", modelStatus,
        "LlamaForCausalLM", modelStatus.equals("ready") ? List.of(FILE) : List.of(), null));
    EventLog.publish(Topics.ARTIFACT_EVENTS, new DatasetChanged(EventCodec.newId(), Instant.now(), file, tenant, "train.jsonl", "ready",
        "text", 10, FILE, null));
    return new Artifacts(model, file);
  }

  static String createJob(String key, Artifacts a) {
    String body = "{\"model\": \"" + a.model() + "\", \"training_file\": \"" + a.file() + "\", \"seed\": 7, \"suffix\": \"bot\","
        + " \"adapter\": {\"type\": \"dora\", \"rank\": 4},"
        + " \"method\": {\"type\": \"supervised\", \"supervised\": {\"hyperparameters\": {\"n_epochs\": 2, \"batch_size\": \"auto\", \"learning_rate_multiplier\": 2}}},"
        + " \"metadata\": {\"team\": \"search\"}}";
    // The projection catches up with the published artifact events within moments.
    java.util.concurrent.atomic.AtomicReference<String> id = new java.util.concurrent.atomic.AtomicReference<>();
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> {
      var r = with(key).contentType("application/json").body(body).post("/v1/fine_tuning/jobs");
      if (r.statusCode() == 200) {
        id.set(r.jsonPath().getString("id"));
        return true;
      }
      return false;
    });
    return id.get();
  }

  static JsonPath awaitStatus(String key, String job, String status) {
    Awaitility.await().atMost(Duration.ofSeconds(30))
        .until(() -> status.equals(with(key).get("/v1/fine_tuning/jobs/" + job).jsonPath().getString("status")));
    return with(key).get("/v1/fine_tuning/jobs/" + job).jsonPath();
  }

  @Test
  void aRunningJobPausesWhenItsWorkerSaysSoAndResumesWithANewCommand() {
    String key = keyFor("pausing");
    Artifacts a = artifacts("pausing", "ready");
    String job = createJob(key, a);
    awaitStatus(key, job, "queued");
    EventLog.await(Topics.JOB_COMMANDS, JobSubmitted.class, job, 1, Duration.ofSeconds(30));
    with(key).post("/v1/fine_tuning/jobs/" + job + "/resume").then().statusCode(409).body("field", equalTo("id"));

    EventLog.publish(Topics.JOB_EVENTS, new JobStarted(EventCodec.newId(), Instant.now(), job, "pausing", "worker-1", 10, 20, 0, 1));
    awaitStatus(key, job, "running");
    EventLog.publish(Topics.JOB_EVENTS, new TrainingProgressed(EventCodec.newId(), Instant.now(), job, "pausing", 3, 10, 0.3, 2.5, null, 1e-4, 800, 4, Map.of()));
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> with(key).get("/v1/fine_tuning/jobs/" + job).jsonPath().getInt("trained_steps") == 3);
    with(key).post("/v1/fine_tuning/jobs/" + job + "/pause").then().statusCode(200).body("status", equalTo("running"));
    // Every worker hears of it; the one running the job checkpoints and says it paused.
    EventLog.await(Topics.JOB_CONTROL, io.peftplatform.events.JobPauseRequested.class, job, 1, Duration.ofSeconds(30));
    EventLog.publish(Topics.JOB_EVENTS, new io.peftplatform.events.JobPaused(EventCodec.newId(), Instant.now(), job, "pausing", 3));
    awaitStatus(key, job, "paused");
    with(key).post("/v1/fine_tuning/jobs/" + job + "/pause").then().statusCode(200).body("status", equalTo("paused"));

    with(key).post("/v1/fine_tuning/jobs/" + job + "/resume").then().statusCode(200).body("status", equalTo("queued"));
    EventLog.await(Topics.JOB_CONTROL, io.peftplatform.events.JobResumeRequested.class, job, 1, Duration.ofSeconds(30));
    assertThat(EventLog.await(Topics.JOB_COMMANDS, JobSubmitted.class, job, 2, Duration.ofSeconds(30))).as("a new command resumes it").hasSize(2);
    EventLog.publish(Topics.JOB_EVENTS, new JobStarted(EventCodec.newId(), Instant.now(), job, "pausing", "worker-2", 10, 20, 3, 2));
    awaitStatus(key, job, "running");
    Awaitility.await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
        assertThat(with(key).get("/v1/fine_tuning/jobs/" + job + "/events").jsonPath().getList("data.message", String.class)).containsSubsequence(
            "Pause requested; the worker saves a checkpoint after the current step and stops",
            "Job paused after 3 steps; resume it to go on from there",
            "Resumed; the job goes on from step 3 when a worker takes it",
            "Resumed on worker-2 from step 3 of 10 (attempt 2)"));
  }

  /** A ready dataset of preference pairs of the tenant's, as the artifacts service announces it; its id. */
  static String preferencePairs(String tenant) {
    String pairs = unique("file");
    EventLog.publish(Topics.ARTIFACT_EVENTS, new DatasetChanged(EventCodec.newId(), Instant.now(), pairs, tenant, "pairs.jsonl",
        "ready", "preference", 10, FILE, null));
    return pairs;
  }

  /** SimPO (this platform's extension of OpenAI's method): its defaults filled in, and carried to the worker. */
  @Test
  void aSimpoJobTakesItsDefaultsAndCarriesThemToTheWorker() {
    String key = keyFor("simpo-tenant");
    Artifacts supervised = artifacts("simpo-tenant", "ready");
    String pairs = preferencePairs("simpo-tenant");
    java.util.concurrent.atomic.AtomicReference<String> id = new java.util.concurrent.atomic.AtomicReference<>();
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> {
      var r = with(key).contentType("application/json").body("{\"model\": \"" + supervised.model() + "\", \"training_file\": \""
          + pairs + "\", \"method\": {\"type\": \"simpo\", \"simpo\": {\"hyperparameters\": {\"max_steps\": 4}}}}")
          .post("/v1/fine_tuning/jobs");
      id.set(r.statusCode() == 200 ? r.jsonPath().getString("id") : null);
      return id.get() != null;
    });
    JsonPath created = awaitStatus(key, id.get(), "queued");
    assertThat(created.getString("method.type")).isEqualTo("simpo");
    assertThat(created.getDouble("method.simpo.hyperparameters.beta")).isEqualTo(2.0);
    assertThat(created.getDouble("method.simpo.hyperparameters.gamma")).isEqualTo(0.5);
    JobSubmitted submitted = EventLog.await(Topics.JOB_COMMANDS, JobSubmitted.class, id.get(), 1, Duration.ofSeconds(30)).get(0);
    assertThat(submitted.spec().objective()).isEqualTo(io.peftplatform.training.spec.Objective.simpo(2.0, 0.5));
  }

  @Test
  void aDpoJobNeedsPreferencePairsAndCarriesItsObjectiveToTheWorker() {
    String key = keyFor("preferring");
    Artifacts supervised = artifacts("preferring", "ready");
    String pairs = preferencePairs("preferring");
    String dpo = "\"method\": {\"type\": \"dpo\", \"dpo\": {\"hyperparameters\": {\"beta\": 0.3, \"max_steps\": 10}}}";
    Awaitility.await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
        with(key).contentType("application/json").body("{\"model\": \"" + supervised.model() + "\", \"training_file\": \""
            + supervised.file() + "\", " + dpo + "}").post("/v1/fine_tuning/jobs").then().statusCode(400)
            .body("field", equalTo("training_file")).body("detail", containsString("method dpo needs preference pairs")));
    java.util.concurrent.atomic.AtomicReference<String> id = new java.util.concurrent.atomic.AtomicReference<>();
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> {
      var r = with(key).contentType("application/json").body("{\"model\": \"" + supervised.model() + "\", \"training_file\": \""
          + pairs + "\", " + dpo + "}").post("/v1/fine_tuning/jobs");
      id.set(r.statusCode() == 200 ? r.jsonPath().getString("id") : null);
      return id.get() != null;
    });
    JsonPath created = awaitStatus(key, id.get(), "queued");
    assertThat(created.getString("method.type")).isEqualTo("dpo");
    assertThat(created.getDouble("method.dpo.hyperparameters.beta")).isEqualTo(0.3);
    assertThat(created.getString("method.dpo.hyperparameters.eval_every")).isEqualTo("auto");
    JobSubmitted submitted = EventLog.await(Topics.JOB_COMMANDS, JobSubmitted.class, id.get(), 1, Duration.ofSeconds(30)).get(0);
    assertThat(submitted.spec().objective()).isEqualTo(io.peftplatform.training.spec.Objective.dpo(0.3));
    assertThat(submitted.spec().training().maxSteps()).isEqualTo(10);
    assertThat(submitted.spec().training().evalEvery()).isEqualTo(io.peftplatform.training.spec.TrainingConfig.AUTO);

    EventLog.publish(Topics.JOB_EVENTS, new JobStarted(EventCodec.newId(), Instant.now(), id.get(), "preferring", "worker-1", 10, 10, 0, 1));
    EventLog.publish(Topics.JOB_EVENTS, new TrainingProgressed(EventCodec.newId(), Instant.now(), id.get(), "preferring", 1, 10, 0.1, 0.69,
        null, 1e-4, 800, 4, Map.of("reward_accuracy", 0.75, "reward_margin", 0.125)));
    Awaitility.await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      JsonPath events = with(key).get("/v1/fine_tuning/jobs/" + id.get() + "/events").jsonPath();
      assertThat(events.getList("data.message", String.class))
          .contains("Step 1/10: training loss=0.6900, reward accuracy=0.75, reward margin=0.1250");
      assertThat(events.getList("data.data.reward_accuracy", Double.class)).contains(0.75);
    });
  }

  @Test
  void onlyAJobWithAWorkerCanBePaused() {
    String key = keyFor("pausing-early");
    Artifacts a = artifacts("pausing-early", "validating");
    String job = createJob(key, a);
    awaitStatus(key, job, "validating_files");
    with(key).post("/v1/fine_tuning/jobs/" + job + "/pause").then().statusCode(409).contentType("application/problem+json")
        .body("error.type", equalTo("conflict_error"));
    with(key).post("/v1/fine_tuning/jobs/ftjob-nope/pause").then().statusCode(404).body("error.type", equalTo("not_found_error"));
  }

  @Test
  void aJobRunsFromQueuedToSucceededOnWorkerEvents() {
    String key = keyFor("lifecycle");
    Artifacts a = artifacts("lifecycle", "ready");
    String job = createJob(key, a);
    JsonPath created = awaitStatus(key, job, "queued");
    assertThat(created.getString("object")).isEqualTo("fine_tuning.job");
    assertThat(created.getString("method.type")).isEqualTo("supervised");
    assertThat(created.getString("adapter.type")).isEqualTo("dora");
    assertThat(created.getInt("adapter.rank")).isEqualTo(4);
    assertThat(created.getDouble("adapter.alpha")).isEqualTo(8.0);
    assertThat(created.getInt("hyperparameters.batch_size")).isEqualTo(8);
    assertThat(created.getInt("method.supervised.hyperparameters.batch_size")).isEqualTo(8);
    assertThat(created.getInt("method.supervised.hyperparameters.n_epochs")).isEqualTo(2);
    assertThat(created.getDouble("hyperparameters.learning_rate")).isEqualTo(4e-4);
    assertThat(created.getLong("seed")).isEqualTo(7);
    assertThat(created.getString("metadata.team")).isEqualTo("search");

    JobSubmitted submitted = EventLog.await(Topics.JOB_COMMANDS, JobSubmitted.class, job, 1, Duration.ofSeconds(30)).get(0);
    assertThat(submitted.tenant()).isEqualTo("lifecycle");
    assertThat(submitted.modelFiles()).containsExactly(FILE);
    assertThat(submitted.spec().adapter().method().cliName()).isEqualTo("dora");
    assertThat(submitted.spec().training().epochs()).isEqualTo(2);

    JobStarted started = new JobStarted(EventCodec.newId(), Instant.now(), job, "lifecycle", "worker-1", 10, 20, 0, 1);
    EventLog.publish(Topics.JOB_EVENTS, started);
    EventLog.publish(Topics.JOB_EVENTS, started); // a duplicate changes nothing
    awaitStatus(key, job, "running");
    EventLog.publish(Topics.JOB_EVENTS, new TrainingProgressed(EventCodec.newId(), Instant.now(), job, "lifecycle", 5, 10, 0.5, 2.5, 2.7, 1e-4, 800, 4, Map.of()));
    EventLog.publish(Topics.JOB_EVENTS, new CheckpointSaved(EventCodec.newId(), Instant.now(), job, "lifecycle", 5, "tenants/lifecycle/jobs/x/", List.of(FILE), 2.7));
    EventLog.publish(Topics.JOB_EVENTS, new JobSucceeded(EventCodec.newId(), Instant.now(), job, "lifecycle", a.model(), "dora",
        List.of(FILE), 1234, Map.of("train_loss", 1.9, "steps", 10.0), "completed"));
    JsonPath done = awaitStatus(key, job, "succeeded");
    assertThat(done.getString("fine_tuned_model")).isEqualTo("adapter-" + job.substring(6));
    assertThat(done.getInt("trained_steps")).isEqualTo(10);
    assertThat(done.getDouble("result.train_loss")).isEqualTo(1.9);
    assertThat(done.getLong("finished_at")).isPositive();

    // A late event that the lifecycle forbids is refused.
    EventLog.publish(Topics.JOB_EVENTS, new JobFailed(EventCodec.newId(), Instant.now(), job, "lifecycle", "internal_error", "late"));
    EventLog.publish(Topics.JOB_EVENTS, new JobStarted(EventCodec.newId(), Instant.now(), job, "lifecycle", "worker-2", 10, 20, 0, 1));

    Awaitility.await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      JsonPath events = with(key).get("/v1/fine_tuning/jobs/" + job + "/events").jsonPath();
      assertThat(events.getList("data.message", String.class)).containsSubsequence(
          "Created fine-tuning job " + job + " (supervised, dora)", "Files validated; job queued",
          "Started on worker-1: 20 training examples, 10 steps", "Step 5/10: training loss=2.5000, validation loss=2.7000",
          "Checkpoint saved at step 5", "Job succeeded: adapter adapter-" + job.substring(6) + " (1234 trainable parameters)");
    });
    assertThat(with(key).get("/v1/fine_tuning/jobs/" + job).jsonPath().getString("status")).isEqualTo("succeeded");
    JsonPath metrics = with(key).get("/v1/fine_tuning/jobs/" + job + "/events").jsonPath();
    assertThat(metrics.getList("data.type")).contains("metrics");
    assertThat(metrics.getDouble("data.find { it.type == 'metrics' }.data.train_loss")).isEqualTo(2.5);
    assertThat(metrics.getList("data").stream().filter(e -> ((Map<?, ?>) e).get("message").toString().startsWith("Started"))).hasSize(1);

    with(key).get("/v1/fine_tuning/jobs/" + job + "/checkpoints").then().statusCode(200)
        .body("data", hasSize(1)).body("data[0].step_number", equalTo(5)).body("data[0].object", equalTo("fine_tuning.job.checkpoint"));
    with(key).post("/v1/fine_tuning/jobs/" + job + "/cancel").then().statusCode(409).contentType("application/problem+json");

    // The live stream replays the events and ends with the job.
    String stream = with(key).accept("text/event-stream").get("/v1/fine_tuning/jobs/" + job + "/events").then().statusCode(200).extract().asString();
    assertThat(stream).contains("Job succeeded").contains("data:");
  }

  @Test
  void cancellingAQueuedJobEndsItAndTellsTheWorkers() {
    String key = keyFor("cancel-queued");
    String job = createJob(key, artifacts("cancel-queued", "ready"));
    awaitStatus(key, job, "queued");
    with(key).post("/v1/fine_tuning/jobs/" + job + "/cancel").then().statusCode(200).body("status", equalTo("cancelled"))
        .body("cancel_requested", equalTo(true));
    assertThat(EventLog.await(Topics.JOB_CONTROL, JobCancelRequested.class, job, 1, Duration.ofSeconds(30))).hasSize(1);
    // A worker that took the job before hearing of it reports it cancelled: nothing changes.
    EventLog.publish(Topics.JOB_EVENTS, new JobStarted(EventCodec.newId(), Instant.now(), job, "cancel-queued", "w", 5, 5, 0, 1));
    EventLog.publish(Topics.JOB_EVENTS, new JobCancelled(EventCodec.newId(), Instant.now(), job, "cancel-queued", 0));
    awaitStatus(key, job, "cancelled");
  }

  @Test
  void cancellingARunningJobWaitsForTheWorker() {
    String key = keyFor("cancel-running");
    String job = createJob(key, artifacts("cancel-running", "ready"));
    awaitStatus(key, job, "queued");
    EventLog.publish(Topics.JOB_EVENTS, new JobStarted(EventCodec.newId(), Instant.now(), job, "cancel-running", "w", 5, 5, 0, 1));
    awaitStatus(key, job, "running");
    with(key).post("/v1/fine_tuning/jobs/" + job + "/cancel").then().statusCode(200).body("status", equalTo("running"))
        .body("cancel_requested", equalTo(true));
    EventLog.await(Topics.JOB_CONTROL, JobCancelRequested.class, job, 1, Duration.ofSeconds(30));
    EventLog.publish(Topics.JOB_EVENTS, new JobCancelled(EventCodec.newId(), Instant.now(), job, "cancel-running", 3));
    awaitStatus(key, job, "cancelled");
  }

  @Test
  void aJobWaitsForItsModelAndFailsWithIt() {
    String key = keyFor("waiting");
    Artifacts a = artifacts("waiting", "validating");
    String job = createJob(key, a);
    awaitStatus(key, job, "validating_files");
    EventLog.publish(Topics.ARTIFACT_EVENTS, new ModelChanged(EventCodec.newId(), Instant.now(), a.model(), "waiting", "tiny", "ready",
        "LlamaForCausalLM", List.of(FILE), null));
    awaitStatus(key, job, "queued");
    EventLog.await(Topics.JOB_COMMANDS, JobSubmitted.class, job, 1, Duration.ofSeconds(30));

    Artifacts b = artifacts("waiting", "validating");
    String doomed = createJob(key, b);
    awaitStatus(key, doomed, "validating_files");
    EventLog.publish(Topics.ARTIFACT_EVENTS, new ModelChanged(EventCodec.newId(), Instant.now(), b.model(), "waiting", "tiny", "failed",
        null, List.of(), "architecture GPT2 is not supported"));
    JsonPath failed = awaitStatus(key, doomed, "failed");
    assertThat(failed.getString("error.code")).isEqualTo("invalid_model");
    assertThat(failed.getString("error.param")).isEqualTo("model");
  }

  @Test
  void tenantsSeeOnlyTheirOwnJobs() {
    String alice = keyFor("alice");
    String bob = keyFor("bob");
    String job = createJob(alice, artifacts("alice", "ready"));
    with(bob).get("/v1/fine_tuning/jobs/" + job).then().statusCode(404).contentType("application/problem+json");
    with(bob).post("/v1/fine_tuning/jobs/" + job + "/cancel").then().statusCode(404);
    with(bob).get("/v1/fine_tuning/jobs/" + job + "/events").then().statusCode(404);
    with(bob).get("/v1/fine_tuning/jobs").then().body("data", hasSize(0));
    Artifacts alices = artifacts("alice", "ready");
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> with(alice).contentType("application/json")
        .body("{\"model\": \"" + alices.model() + "\", \"training_file\": \"" + alices.file() + "\"}").post("/v1/fine_tuning/jobs").statusCode() == 200);
    // Bob cannot train on Alice's model or data: they do not exist for him.
    with(bob).contentType("application/json").body("{\"model\": \"" + alices.model() + "\", \"training_file\": \"" + alices.file() + "\"}")
        .post("/v1/fine_tuning/jobs").then().statusCode(400).body("field", equalTo("model"));
  }

  @Test
  void listsPageAndFilterByStatus() {
    String key = keyFor("pages");
    Artifacts a = artifacts("pages", "ready");
    String first = createJob(key, a);
    awaitStatus(key, first, "queued");
    for (int i = 0; i < 2; i++) {
      with(key).contentType("application/json").body("{\"model\": \"" + a.model() + "\", \"training_file\": \"" + a.file() + "\"}")
          .post("/v1/fine_tuning/jobs").then().statusCode(200);
    }
    with(key).post("/v1/fine_tuning/jobs/" + first + "/cancel").then().statusCode(200);
    JsonPath page = with(key).get("/v1/fine_tuning/jobs?limit=2").jsonPath();
    assertThat(page.getList("data")).hasSize(2);
    assertThat(page.getBoolean("has_more")).isTrue();
    JsonPath rest = with(key).get("/v1/fine_tuning/jobs?limit=2&after=" + page.getString("data[1].id")).jsonPath();
    assertThat(rest.getList("data.id")).containsExactly(first);
    assertThat(with(key).get("/v1/fine_tuning/jobs?status=cancelled").jsonPath().getList("data.id")).containsExactly(first);
    with(key).get("/v1/fine_tuning/jobs?status=stopped").then().statusCode(400).body("field", equalTo("status"));
    assertThat(with(key).get("/v1/fine_tuning/jobs?status=paused").jsonPath().getList("data")).isEmpty();
  }
}

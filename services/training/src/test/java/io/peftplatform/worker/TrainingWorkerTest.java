package io.peftplatform.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftplatform.adapters.AdapterFiles;
import io.peftplatform.events.CheckpointSaved;
import io.peftplatform.events.EventCodec;
import io.peftplatform.events.JobCancelRequested;
import io.peftplatform.events.JobCancelled;
import io.peftplatform.events.JobFailed;
import io.peftplatform.events.JobHeartbeat;
import io.peftplatform.events.JobStarted;
import io.peftplatform.events.JobSubmitted;
import io.peftplatform.events.JobSucceeded;
import io.peftplatform.events.ObjectRef;
import io.peftplatform.events.Topics;
import io.peftplatform.events.TrainingProgressed;
import io.peftplatform.storage.ObjectLayout;
import io.peftplatform.storage.ObjectStore;
import io.peftplatform.testsupport.EventLog;
import io.peftplatform.testsupport.PrometheusScrape;
import io.peftplatform.testsupport.KafkaTestResource;
import io.peftplatform.testsupport.S3TestResource;
import io.peftplatform.training.Provenance;
import io.peftplatform.training.spec.Objective;
import io.peftplatform.training.spec.RunSpec;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** A worker against the real broker and S3 server: jobs in as commands, events and objects out. */
@QuarkusTest
@QuarkusTestResource(KafkaTestResource.class)
@QuarkusTestResource(S3TestResource.class)
class TrainingWorkerTest {
  static final Duration WAIT = Duration.ofSeconds(90);

  @Inject ObjectStore store;

  @Test
  void trainsAJobToAnAdapterWithProgressAndCheckpointsThenSkipsItsRedelivery() throws Exception {
    String id = Fixtures.newJobId();
    JobSubmitted job = Fixtures.job(store, id, Fixtures.spec("lora", 6, 2));
    EventLog.publish(Topics.JOB_COMMANDS, job);

    JobSucceeded done = EventLog.await(Topics.JOB_EVENTS, JobSucceeded.class, id, 1, WAIT).get(0);
    JobStarted started = EventLog.await(Topics.JOB_EVENTS, JobStarted.class, id, 1, WAIT).get(0);
    assertThat(started.totalSteps()).isEqualTo(6);
    assertThat(started.resumedFromStep()).isZero();
    assertThat(started.trainingExamples()).isEqualTo(24);
    List<TrainingProgressed> progress = EventLog.await(Topics.JOB_EVENTS, TrainingProgressed.class, id, 2, WAIT);
    assertThat(progress.get(0).step()).isEqualTo(1);
    assertThat(progress).allSatisfy(p -> assertThat(p.trainLoss()).isFinite().isPositive());
    List<CheckpointSaved> checkpoints = EventLog.await(Topics.JOB_EVENTS, CheckpointSaved.class, id, 3, WAIT);
    assertThat(checkpoints).extracting(CheckpointSaved::step).containsExactly(2, 4, 6);

    assertThat(done.method()).isEqualTo("lora");
    assertThat(done.metrics()).containsKeys("train_loss", "steps", "seconds").containsEntry("steps", 6.0);
    // Under the adapter's prefix, in the attempt's own folder (another run of the job cannot overwrite it).
    String adapterPrefix = ObjectLayout.adapterPrefix(Fixtures.TENANT, "adapter-" + id.substring(6));
    assertThat(done.adapterFiles()).allSatisfy(f -> assertThat(f.key()).startsWith(adapterPrefix + "001-"));
    assertThat(done.adapterFiles()).extracting(f -> ObjectLayout.fileName(f.key()))
        .containsExactly(AdapterFiles.CONFIG, AdapterFiles.WEIGHTS, Provenance.FILE);
    for (ObjectRef f : done.adapterFiles()) {
      assertThat(store.size(f.key())).contains(f.bytes());
    }
    JsonNode provenance = readJson(done.adapterFiles().get(2).key());
    assertThat(provenance.at("/base_model/name").asText()).isEqualTo("model-tiny");
    assertThat(provenance.at("/datasets/0/name").asText()).isEqualTo("ds-arith");
    assertThat(provenance.at("/datasets/0/sha256").asText()).isEqualTo(job.trainingFile().sha256());

    // The command again, as after a worker died before committing its offset: not trained twice.
    EventLog.publish(Topics.JOB_COMMANDS, new JobSubmitted(EventCodec.newId(), EventCodec.now(), id, job.tenant(), job.modelId(),
        job.modelFiles(), job.trainingFile(), null, job.spec()));
    List<JobSucceeded> twice = EventLog.await(Topics.JOB_EVENTS, JobSucceeded.class, id, 2, WAIT);
    assertThat(twice.get(1).eventId()).isEqualTo(done.eventId());
    assertThat(EventLog.awaitAll(Topics.JOB_EVENTS, JobStarted.class, id, Duration.ofSeconds(2))).hasSize(1);
  }

  private JsonNode readJson(String key) throws java.io.IOException {
    return new ObjectMapper().readTree(store.readText(key));
  }

  @Test
  void resumesFromTheNewestCompleteCheckpointAndEndsWhereAnUninterruptedRunEnds() {
    String first = Fixtures.newJobId();
    EventLog.publish(Topics.JOB_COMMANDS, Fixtures.job(store, first, Fixtures.spec("dora", 8, 2)));
    JobSucceeded uninterrupted = EventLog.await(Topics.JOB_EVENTS, JobSucceeded.class, first, 1, WAIT).get(0);

    // A second job whose earlier attempt got as far as step 4, and half-uploaded step 6 (no state file).
    String second = Fixtures.newJobId();
    String from = ObjectLayout.jobPrefix(Fixtures.TENANT, first) + "attempts/";
    String to = ObjectLayout.jobPrefix(Fixtures.TENANT, second) + "attempts/";
    for (String key : store.list(from)) {
      if (!key.contains("/checkpoints/")) {
        continue;
      }
      boolean upToFour = key.contains("checkpoint-000002/") || key.contains("checkpoint-000004/");
      boolean partOfSix = key.contains("checkpoint-000006/") && !key.endsWith("trainer_state.json");
      if (upToFour || partOfSix) {
        copy(key, to + key.substring(from.length()));
      }
    }
    EventLog.publish(Topics.JOB_COMMANDS, Fixtures.job(store, second, Fixtures.spec("dora", 8, 2)));
    JobSucceeded resumed = EventLog.await(Topics.JOB_EVENTS, JobSucceeded.class, second, 1, WAIT).get(0);
    JobStarted started = EventLog.await(Topics.JOB_EVENTS, JobStarted.class, second, 1, WAIT).get(0);

    assertThat(started.resumedFromStep()).isEqualTo(4);
    assertThat(EventLog.await(Topics.JOB_EVENTS, CheckpointSaved.class, second, 2, WAIT))
        .extracting(CheckpointSaved::step).containsExactly(6, 8);
    assertThat(weightsSha(resumed)).isEqualTo(weightsSha(uninterrupted));
    assertThat(resumed.metrics().get("train_loss")).isEqualTo(uninterrupted.metrics().get("train_loss"));
  }

  /** A pause checkpoints where the job stops and is not its end: a new command after the resume goes on from there. */
  @Test
  void aPausedJobCheckpointsWhereItStopsAndGoesOnFromThereWhenResumed() {
    String id = Fixtures.newJobId();
    JobSubmitted command = Fixtures.job(store, id, Fixtures.spec("lora", 100_000, 100_000));
    EventLog.publish(Topics.JOB_COMMANDS, command);
    EventLog.await(Topics.JOB_EVENTS, TrainingProgressed.class, id, 1, WAIT);
    EventLog.publish(Topics.JOB_CONTROL, new io.peftplatform.events.JobPauseRequested(EventCodec.newId(), EventCodec.now(), id, Fixtures.TENANT));

    int paused = EventLog.await(Topics.JOB_EVENTS, io.peftplatform.events.JobPaused.class, id, 1, Duration.ofSeconds(20)).get(0).stepsDone();
    assertThat(paused).isBetween(1, 99_999);
    assertThat(EventLog.await(Topics.JOB_EVENTS, CheckpointSaved.class, id, 1, WAIT)).extracting(CheckpointSaved::step).containsExactly(paused);

    EventLog.publish(Topics.JOB_CONTROL, new io.peftplatform.events.JobResumeRequested(EventCodec.newId(), EventCodec.now(), id, Fixtures.TENANT));
    EventLog.publish(Topics.JOB_COMMANDS, new JobSubmitted(EventCodec.newId(), EventCodec.now(), id, command.tenant(), command.modelId(),
        command.modelFiles(), command.trainingFile(), command.validationFile(), command.spec()));
    JobStarted again = EventLog.await(Topics.JOB_EVENTS, JobStarted.class, id, 2, WAIT).get(1);
    assertThat(again.resumedFromStep()).isEqualTo(paused);
    EventLog.publish(Topics.JOB_CONTROL, new JobCancelRequested(EventCodec.newId(), EventCodec.now(), id, Fixtures.TENANT));
    assertThat(EventLog.await(Topics.JOB_EVENTS, JobCancelled.class, id, 1, Duration.ofSeconds(20)).get(0).stepsDone()).isGreaterThanOrEqualTo(paused);
  }

  @Test
  void stopsARunningJobWithinAStepOnCancel() {
    String id = Fixtures.newJobId();
    EventLog.publish(Topics.JOB_COMMANDS, Fixtures.job(store, id, Fixtures.spec("kronecker", 100_000, 100_000)));
    EventLog.await(Topics.JOB_EVENTS, TrainingProgressed.class, id, 1, WAIT);
    // While it trains, the job has its series on the worker's /q/metrics.
    Map<String, String> job = Map.of("application", "training", "job_id", id, "tenant", Fixtures.TENANT);
    org.awaitility.Awaitility.await().atMost(WAIT).untilAsserted(() -> {
      PrometheusScrape m = scrape();
      assertThat(m.value("peft_training_loss", job).orElseThrow()).isPositive();
      assertThat(m.value("peft_training_progress_ratio", job).orElseThrow()).isBetween(1e-5, 1.0);
      assertThat(m.value("peft_training_tokens_per_second", job).orElseThrow()).isPositive();
      assertThat(m.value("peft_training_step_seconds", job).orElseThrow()).isPositive();
      assertThat(m.value("peft_native_memory_bytes", Map.of("kind", "physical")).orElseThrow()).isPositive();
    });
    EventLog.publish(Topics.JOB_CONTROL, new JobCancelRequested(EventCodec.newId(), EventCodec.now(), id, Fixtures.TENANT));

    JobCancelled cancelled = EventLog.await(Topics.JOB_EVENTS, JobCancelled.class, id, 1, Duration.ofSeconds(20)).get(0);
    assertThat(cancelled.stepsDone()).isBetween(1, 99_999);
    assertThat(EventLog.awaitAll(Topics.JOB_EVENTS, JobSucceeded.class, id, Duration.ofSeconds(1))).isEmpty();
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(scrape().all("peft_training_loss", job)).as("gone with the job").isEmpty());
  }

  static PrometheusScrape scrape() {
    return PrometheusScrape.parse(io.restassured.RestAssured.given().get("/q/metrics").then().statusCode(200).extract().asString());
  }

  /** NOLA is no PEFT type: its worker stores the plain LoRA it equals beside it, for ?format=peft downloads. */
  @Test
  void aNolaAdapterIsStoredWithItsPeftLora() throws Exception {
    String id = Fixtures.newJobId();
    EventLog.publish(Topics.JOB_COMMANDS, Fixtures.job(store, id, Fixtures.spec("nola", 2, Fixtures.AUTO)));
    JobSucceeded done = EventLog.await(Topics.JOB_EVENTS, JobSucceeded.class, id, 1, WAIT).get(0);
    String config = done.adapterFiles().stream().map(io.peftplatform.events.ObjectRef::key).filter(k -> k.endsWith("/adapter_config.json"))
        .findFirst().orElseThrow();
    assertThat(store.readText(config)).contains("\"NOLA\"");
    String exported = store.readText(io.peftplatform.storage.ObjectLayout.peftExportKey(config));
    assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(exported).path("peft_type").asText()).isEqualTo("LORA");
    assertThat(store.size(io.peftplatform.storage.ObjectLayout.peftExportKey(config.replace("adapter_config.json", "adapter_model.safetensors"))))
        .hasValueSatisfying(n -> assertThat(n).isPositive());
    assertThat(done.adapterFiles()).as("the export is not one of the adapter's own files").hasSize(3);
  }

  @Test
  void skipsAJobCancelledBeforeItStarts() {
    String id = Fixtures.newJobId();
    EventLog.publish(Topics.JOB_CONTROL, new JobCancelRequested(EventCodec.newId(), EventCodec.now(), id, Fixtures.TENANT));
    EventLog.publish(Topics.JOB_COMMANDS, Fixtures.job(store, id, Fixtures.spec("nola", 4, Fixtures.AUTO)));

    JobCancelled cancelled = EventLog.await(Topics.JOB_EVENTS, JobCancelled.class, id, 1, WAIT).get(0);
    assertThat(cancelled.stepsDone()).isZero();
    assertThat(EventLog.awaitAll(Topics.JOB_EVENTS, JobStarted.class, id, Duration.ofSeconds(1))).isEmpty();
  }

  @Test
  void failsAJobWhoseTrainingFileIsBadWithTheLineAtFault() {
    String id = Fixtures.newJobId();
    var bad = Fixtures.upload(store, "ds-bad", Fixtures.arithmetic(3) + "{\"prompt\": \"no completion\"}\n");
    EventLog.publish(Topics.JOB_COMMANDS, Fixtures.job(store, id, bad, Fixtures.spec("lora", 4, Fixtures.AUTO)));

    JobFailed failed = EventLog.await(Topics.JOB_EVENTS, JobFailed.class, id, 1, WAIT).get(0);
    assertThat(failed.code()).isEqualTo("invalid_training_file");
    assertThat(failed.message()).contains("training_file").contains("line 4").contains("completion");
  }

  @Test
  void trainsADpoJobOnPreferencePairsWithItsMetrics() {
    StringBuilder pairs = new StringBuilder();
    for (int i = 0; i < 8; i++) {
      pairs.append("{\"input\": {\"messages\": [{\"role\": \"user\", \"content\": \"").append(i).append(" + 1 =\"}]},")
          .append(" \"preferred_output\": [{\"role\": \"assistant\", \"content\": \"").append(i + 1).append("\"}],")
          .append(" \"non_preferred_output\": [{\"role\": \"assistant\", \"content\": \"").append(i + 3).append("\"}]}\n");
    }
    var data = Fixtures.upload(store, "ds-pairs", pairs.toString());
    RunSpec base = Fixtures.spec("lora", 3, Fixtures.AUTO);
    RunSpec dpo = new RunSpec(base.adapter(), base.training(), base.data(), Objective.dpo(0.2));
    String id = Fixtures.newJobId();
    EventLog.publish(Topics.JOB_COMMANDS, Fixtures.job(store, id, data, dpo));

    JobSucceeded done = EventLog.await(Topics.JOB_EVENTS, JobSucceeded.class, id, 1, WAIT).get(0);
    assertThat(done.metrics()).containsKeys("train_loss", "reward_margin", "reward_accuracy", "chosen_logp", "rejected_logp")
        .containsEntry("training_examples", 8.0);
    List<TrainingProgressed> progress = EventLog.await(Topics.JOB_EVENTS, TrainingProgressed.class, id, 1, WAIT);
    assertThat(progress.get(0).metrics()).containsKeys("reward_accuracy", "reward_margin");
    assertThat(progress.get(0).trainLoss()).as("the adapter starts as the reference: ln 2").isCloseTo(Math.log(2), within(1e-4));

    // Supervised records given to a DPO job fail it, naming the file.
    String wrong = Fixtures.newJobId();
    EventLog.publish(Topics.JOB_COMMANDS, Fixtures.job(store, wrong, Fixtures.dataset(store), dpo));
    JobFailed failed = EventLog.await(Topics.JOB_EVENTS, JobFailed.class, wrong, 1, WAIT).get(0);
    assertThat(failed.code()).isEqualTo("invalid_training_file");
    assertThat(failed.message()).contains("training_file holds prompt/completion records, not preference pairs");
  }

  @Test
  void aPoisonCommandGoesToTheDeadLetterTopicAndTheNextJobStillRuns() {
    EventLog.publishRaw(Topics.JOB_COMMANDS, "poison", "{not json");
    String id = Fixtures.newJobId();
    EventLog.publish(Topics.JOB_COMMANDS, Fixtures.job(store, id, Fixtures.spec("lora", 1, Fixtures.AUTO)));

    EventLog.await(Topics.JOB_EVENTS, JobSucceeded.class, id, 1, WAIT);
    assertThat(EventLog.awaitRaw(Topics.JOB_COMMANDS + Topics.DEAD_LETTER_SUFFIX, "{not json"::equals, 1, WAIT)).hasSize(1);
    assertThat(scrape().sum("peft_dead_letters_total", Map.of("topic", Topics.JOB_COMMANDS + Topics.DEAD_LETTER_SUFFIX)))
        .as("counted").isGreaterThanOrEqualTo(1);
  }

  /** A job that killed its workers again and again fails instead of killing the next one. */
  @Test
  void aJobThatCrashedItsWorkersThreeTimesFailsAsWorkerCrashed() {
    String id = Fixtures.newJobId();
    for (int i = 1; i <= 3; i++) {
      byte[] marker = "{}".getBytes();
      store.put(ObjectLayout.jobPrefix(Fixtures.TENANT, id) + "attempts/00" + i + "-ghost/started.json",
          new java.io.ByteArrayInputStream(marker), marker.length);
    }
    EventLog.publish(Topics.JOB_COMMANDS, Fixtures.job(store, id, Fixtures.spec("lora", 4, Fixtures.AUTO)));
    JobFailed failed = EventLog.await(Topics.JOB_EVENTS, JobFailed.class, id, 1, WAIT).get(0);
    assertThat(failed.code()).isEqualTo("worker_crashed");
    assertThat(failed.message()).contains("3 times").contains("ghost");
    assertThat(EventLog.awaitAll(Topics.JOB_EVENTS, JobStarted.class, id, Duration.ofSeconds(1))).isEmpty();
  }

  /** A failed job's outcome is stored like a success: its command again is answered, not run again. */
  @Test
  void aRedeliveredCommandOfAFailedJobIsAnsweredFromItsStoredOutcome() {
    String id = Fixtures.newJobId();
    var bad = Fixtures.upload(store, "ds-bad-twice", "{\"prompt\": \"no completion\"}\n");
    JobSubmitted job = Fixtures.job(store, id, bad, Fixtures.spec("lora", 4, Fixtures.AUTO));
    EventLog.publish(Topics.JOB_COMMANDS, job);
    JobFailed first = EventLog.await(Topics.JOB_EVENTS, JobFailed.class, id, 1, WAIT).get(0);
    EventLog.publish(Topics.JOB_COMMANDS, job);
    List<JobFailed> twice = EventLog.await(Topics.JOB_EVENTS, JobFailed.class, id, 2, WAIT);
    assertThat(twice.get(1).eventId()).isEqualTo(first.eventId());
  }

  @Test
  void aRunningJobSendsHeartbeats() {
    String id = Fixtures.newJobId();
    EventLog.publish(Topics.JOB_COMMANDS, Fixtures.job(store, id, Fixtures.spec("lora", 30, Fixtures.AUTO)));
    List<JobHeartbeat> beats = EventLog.await(Topics.JOB_EVENTS, JobHeartbeat.class, id, 1, WAIT);
    assertThat(beats.get(0).worker()).isNotBlank();
    EventLog.await(Topics.JOB_EVENTS, JobSucceeded.class, id, 1, WAIT);
  }

  /** A command that cannot be read goes to the dead-letter topic, and the job it names fails with the reason. */
  @Test
  void anUnreadableCommandFailsItsJob() {
    String id = Fixtures.newJobId();
    String poison = "{\"type\": \"JobSubmitted\", \"aggregateId\": \"" + id + "\", \"tenant\": \"" + Fixtures.TENANT + "\", \"spec\": 3}";
    EventLog.publishRaw(Topics.JOB_COMMANDS, id, poison);
    JobFailed failed = EventLog.await(Topics.JOB_EVENTS, JobFailed.class, id, 1, WAIT).get(0);
    assertThat(failed.code()).isEqualTo("invalid_command");
    assertThat(EventLog.awaitRaw(Topics.JOB_COMMANDS + Topics.DEAD_LETTER_SUFFIX, poison::equals, 1, WAIT)).hasSize(1);
  }

  private void copy(String fromKey, String toKey) {
    try (var in = store.open(fromKey)) {
      byte[] bytes = in.readAllBytes();
      store.put(toKey, new java.io.ByteArrayInputStream(bytes), bytes.length);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static String weightsSha(JobSucceeded done) {
    Map<String, String> byName = done.adapterFiles().stream()
        .collect(Collectors.toMap(f -> ObjectLayout.fileName(f.key()), ObjectRef::sha256));
    return byName.get(AdapterFiles.WEIGHTS);
  }
}

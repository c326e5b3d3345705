package io.peftplatform.merger;

import static org.assertj.core.api.Assertions.assertThat;

import io.peftplatform.adapters.Adapter;
import io.peftplatform.adapters.AdapterFiles;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftplatform.events.EventCodec;
import io.peftplatform.events.MergeCancelRequested;
import io.peftplatform.events.MergeCancelled;
import io.peftplatform.events.MergeFailed;
import io.peftplatform.events.MergeProgressed;
import io.peftplatform.events.MergeRequested;
import io.peftplatform.events.MergeSucceeded;
import io.peftplatform.events.ObjectRef;
import io.peftplatform.events.Topics;
import io.peftplatform.llama.ModelDirectory;
import io.peftplatform.llama.checkpoint.CheckpointWriter;
import io.peftplatform.llama.checkpoint.Presets;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.merge.config.LearnedMergeSpec;
import io.peftplatform.merging.learned.LearnedMerge;
import io.peftplatform.safetensors.Checkpoints;
import io.peftplatform.safetensors.DType;
import io.peftplatform.safetensors.TensorSource;
import io.peftplatform.storage.ObjectLayout;
import io.peftplatform.storage.ObjectStore;
import io.peftplatform.testsupport.EventLog;
import io.peftplatform.testsupport.KafkaTestResource;
import io.peftplatform.testsupport.PrometheusScrape;
import io.peftplatform.testsupport.S3TestResource;
import io.peftplatform.training.CancellationToken;
import io.peftplatform.training.spec.AdapterMethod;
import io.peftplatform.training.spec.AdapterSpec;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/** A merging worker against the real broker and S3 server: requests in as commands, files and events out. */
@QuarkusTest
@QuarkusTestResource(KafkaTestResource.class)
@QuarkusTestResource(S3TestResource.class)
class MergingWorkerTest {
  static final String TENANT = "t-merge-test";
  static final Duration WAIT = Duration.ofSeconds(90);

  @Inject ObjectStore store;

  static List<ObjectRef> model;
  static List<ObjectRef> lora;
  static List<ObjectRef> dora;
  static Path local; // the same files on this machine
  static ObjectRef calibrationA;
  static ObjectRef calibrationB;

  @BeforeEach
  void upload() throws IOException {
    if (model != null) {
      return;
    }
    Path dir = Files.createTempDirectory("merge-test");
    local = dir;
    LlamaConfig config = CheckpointWriter.writeRandom(dir.resolve("model"), Presets.get("tiny"), 7, DType.F32, Long.MAX_VALUE);
    model = uploadDir(dir.resolve("model"), ObjectLayout.modelPrefix(TENANT, "model-base"));
    lora = uploadDir(trainedLooking(AdapterMethod.LORA, config, dir.resolve("lora")), ObjectLayout.adapterPrefix(TENANT, "adapter-a"));
    dora = uploadDir(trainedLooking(AdapterMethod.DORA, config, dir.resolve("dora")), ObjectLayout.adapterPrefix(TENANT, "adapter-b"));
    calibrationA = calibration(dir.resolve("a.jsonl"), "file-a", "the cat sat on the mat");
    calibrationB = calibration(dir.resolve("b.jsonl"), "file-b", "one plus two is three");
  }

  ObjectRef calibration(Path file, String id, String text) throws IOException {
    StringBuilder lines = new StringBuilder();
    for (int i = 0; i < 6; i++) {
      lines.append("{\"text\": \"").append(text).append(" ").append(i).append("\"}\n");
    }
    Files.writeString(file, lines);
    return store.put(ObjectLayout.datasetKey(TENANT, id), file);
  }

  /** An adapter as training leaves one: B no longer zero, so it changes the model. */
  static Path trainedLooking(AdapterMethod method, LlamaConfig config, Path dir) {
    Adapter a = Adapter.create(AdapterSpec.defaults(method).withRank(4), config, DataType.FLOAT);
    for (String name : a.parameters().names()) {
      if (name.endsWith("lora_B")) {
        a.parameters().value(name).assign(Nd4j.rand(DataType.FLOAT, a.parameters().shape(name)).subi(0.5).muli(0.2));
      }
    }
    if (method == AdapterMethod.DORA) {
      a.attach(io.peftplatform.adapters.AdaptedModel.weights(dir.resolveSibling("model"), config, DataType.FLOAT)); // magnitudes from W
    }
    AdapterFiles.write(a, dir, "model-base");
    return dir;
  }

  List<ObjectRef> uploadDir(Path dir, String prefix) throws IOException {
    List<ObjectRef> refs = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.sorted().toList()) {
        refs.add(store.put(prefix + f.getFileName(), f));
      }
    }
    return refs;
  }

  static MergeRequested request(String id, String method, int rank, String outputId) {
    return new MergeRequested(EventCodec.newId(), EventCodec.now(), id, TENANT, "model-base", model,
        List.of(new MergeRequested.Input("adapter-a", lora, 0.7), new MergeRequested.Input("adapter-b", dora, 0.5)),
        method, 0.6, 3, rank, outputId, null, List.of(), null);
  }

  static String newId() {
    return "merge-" + UUID.randomUUID().toString().replace("-", "").substring(0, 24);
  }

  @Test
  void mergesIntoAModelThatLoadsAndAnswersARedeliveryFromItsStoredOutcome() throws Exception {
    String id = newId();
    MergeRequested r = request(id, "ties", 0, "model-merged-" + id.substring(6));
    EventLog.publish(Topics.MERGE_COMMANDS, r);
    MergeSucceeded done = EventLog.await(Topics.MERGE_EVENTS, MergeSucceeded.class, id, 1, WAIT).get(0);
    assertThat(done.output()).isEqualTo("model");
    assertThat(done.outputId()).isEqualTo(r.outputId());
    assertThat(done.architecture()).isEqualTo("LlamaForCausalLM");
    // Under the model's prefix, in the attempt's own folder.
    String prefix = ObjectLayout.modelPrefix(TENANT, r.outputId());
    assertThat(done.files()).allSatisfy(f -> assertThat(f.key()).matches(java.util.regex.Pattern.quote(prefix) + "001-[^/]+/[^/]+"));
    assertThat(done.files()).extracting(f -> ObjectLayout.fileName(f.key()))
        .contains("config.json", "model.safetensors", "tokenizer.json", "peft_merge.json");

    Path downloaded = Files.createTempDirectory("merged");
    for (ObjectRef f : done.files()) {
      store.get(f, downloaded.resolve(ObjectLayout.fileName(f.key())));
    }
    assertThat(ModelDirectory.loadModel(downloaded, DataType.FLOAT).config().numLayers()).isPositive();
    Path base = Files.createTempDirectory("base");
    for (ObjectRef f : model) {
      store.get(f, base.resolve(ObjectLayout.fileName(f.key())));
    }
    try (TensorSource before = Checkpoints.open(base); TensorSource after = Checkpoints.open(downloaded)) {
      String q = "model.layers.0.self_attn.q_proj.weight";
      assertThat(after.readFloats(q)).isNotEqualTo(before.readFloats(q));
      assertThat(after.readFloats("model.norm.weight")).isEqualTo(before.readFloats("model.norm.weight"));
    }

    EventLog.publish(Topics.MERGE_COMMANDS, request(id, "ties", 0, r.outputId()));
    List<MergeSucceeded> twice = EventLog.await(Topics.MERGE_EVENTS, MergeSucceeded.class, id, 2, WAIT);
    assertThat(twice.get(1).eventId()).isEqualTo(done.eventId());
    // Both times on /q/metrics: the merge and its answered redelivery.
    PrometheusScrape metrics = PrometheusScrape.parse(io.restassured.RestAssured.given().get("/q/metrics").then().statusCode(200).extract().asString());
    assertThat(metrics.sum("peft_merge_duration_seconds_count", java.util.Map.of("application", "merging", "method", "ties", "outcome", "succeeded")))
        .isGreaterThanOrEqualTo(2);
  }

  @Test
  void mergesIntoOneLoraAndFailsARankNoModuleCanHold() {
    String id = newId();
    EventLog.publish(Topics.MERGE_COMMANDS, request(id, "linear", 8, "adapter-merged-" + id.substring(6)));
    MergeSucceeded done = EventLog.await(Topics.MERGE_EVENTS, MergeSucceeded.class, id, 1, WAIT).get(0);
    assertThat(done.output()).isEqualTo("adapter");
    assertThat(done.files()).extracting(f -> ObjectLayout.fileName(f.key()))
        .containsExactlyInAnyOrder("adapter_config.json", "adapter_model.safetensors", "peft_merge.json");
    assertThat(done.parameters()).isPositive();

    String failing = newId();
    EventLog.publish(Topics.MERGE_COMMANDS, request(failing, "linear", 100_000, "adapter-x"));
    MergeFailed failed = EventLog.await(Topics.MERGE_EVENTS, MergeFailed.class, failing, 1, WAIT).get(0);
    assertThat(failed.message()).startsWith("rank: must be between 1 and");
    assertThat(store.list(ObjectLayout.adapterPrefix(TENANT, "adapter-x"))).isEmpty();
  }

  static MergeRequested configRequest(String id, String yaml, String outputId) {
    return new MergeRequested(EventCodec.newId(), EventCodec.now(), id, TENANT, "model-base", model, List.of(), "slerp", 0, 0, 0, outputId,
        yaml, List.of(new MergeRequested.Registered("model-base", model), new MergeRequested.Registered("adapter-a", lora)), null);
  }

  @Test
  void mergesWholeModelsFromAMergekitConfigAndFailsOneTheCheckpointsRefuse() throws Exception {
    String id = newId();
    String outputId = "model-kit-" + id.substring(6);
    EventLog.publish(Topics.MERGE_COMMANDS, configRequest(id, """
        merge_method: slerp
        base_model: model-base
        models:
          - model: model-base
          - model: model-base+adapter-a
        parameters:
          t: 0.5
        """, outputId));
    MergeSucceeded done = EventLog.await(Topics.MERGE_EVENTS, MergeSucceeded.class, id, 1, WAIT).get(0);
    assertThat(done.output()).isEqualTo("model");
    assertThat(done.outputId()).isEqualTo(outputId);
    assertThat(done.files()).extracting(f -> ObjectLayout.fileName(f.key()))
        .contains("config.json", "model.safetensors", "tokenizer.json", "peft_merge.json");
    Path downloaded = Files.createTempDirectory("kit");
    for (ObjectRef f : done.files()) {
      store.get(f, downloaded.resolve(ObjectLayout.fileName(f.key())));
    }
    Path base = Files.createTempDirectory("kit-base");
    for (ObjectRef f : model) {
      store.get(f, base.resolve(ObjectLayout.fileName(f.key())));
    }
    try (TensorSource before = Checkpoints.open(base); TensorSource after = Checkpoints.open(downloaded)) {
      String q = "model.layers.0.self_attn.q_proj.weight"; // the adapter changes it: halfway, so not the base
      assertThat(after.readFloats(q)).isNotEqualTo(before.readFloats(q));
      assertThat(after.readFloats("model.norm.weight")).isEqualTo(before.readFloats("model.norm.weight"));
    }
    assertThat(ModelDirectory.loadModel(downloaded, DataType.FLOAT).config().numLayers()).isPositive();

    String failing = newId();
    EventLog.publish(Topics.MERGE_COMMANDS, configRequest(failing, """
        merge_method: ties
        base_model: model-base
        models:
          - model: model-base+adapter-a
            parameters: {density: 0.5}
        """, "model-kit-x"));
    MergeFailed failed = EventLog.await(Topics.MERGE_EVENTS, MergeFailed.class, failing, 1, WAIT).get(0);
    assertThat(failed.code()).isEqualTo("merge_failed");
    assertThat(failed.message()).startsWith("models[0].parameters.weight: required by ties");
    assertThat(store.list(ObjectLayout.modelPrefix(TENANT, "model-kit-x"))).isEmpty();
  }

  /** A merge that killed its workers again and again fails instead of killing the next one. */
  @Test
  void aMergeThatCrashedItsWorkersThreeTimesFails() {
    String id = newId();
    for (int i = 1; i <= 3; i++) {
      byte[] marker = "{}".getBytes();
      store.put(ObjectLayout.mergePrefix(TENANT, id) + "attempts/00" + i + "-ghost/started.json", new java.io.ByteArrayInputStream(marker),
          marker.length);
    }
    EventLog.publish(Topics.MERGE_COMMANDS, request(id, "linear", 0, "model-never-" + id.substring(6)));
    MergeFailed failed = EventLog.await(Topics.MERGE_EVENTS, MergeFailed.class, id, 1, WAIT).get(0);
    assertThat(failed.code()).isEqualTo("worker_crashed");
    assertThat(failed.message()).contains("3 times").contains("ghost");
  }

  /** A command that cannot be read goes to the dead-letter topic, and the merge it names fails with the reason. */
  @Test
  void anUnreadableCommandFailsItsMergeAndGoesToTheDeadLetterTopic() {
    String id = newId();
    String poison = "{\"type\": \"MergeRequested\", \"aggregateId\": \"" + id + "\", \"tenant\": \"" + TENANT + "\", \"method\": 7}";
    EventLog.publishRaw(Topics.MERGE_COMMANDS, id, poison);
    MergeFailed failed = EventLog.await(Topics.MERGE_EVENTS, MergeFailed.class, id, 1, WAIT).get(0);
    assertThat(failed.code()).isEqualTo("invalid_command");
    assertThat(EventLog.awaitRaw(Topics.MERGE_COMMANDS + Topics.DEAD_LETTER_SUFFIX, poison::equals, 1, WAIT)).hasSize(1);
    assertThat(PrometheusScrape.parse(io.restassured.RestAssured.given().get("/q/metrics").then().extract().asString())
        .sum("peft_dead_letters_total", java.util.Map.of("topic", Topics.MERGE_COMMANDS + Topics.DEAD_LETTER_SUFFIX))).isGreaterThanOrEqualTo(1);
  }

  static MergeRequested learnedRequest(String id, int steps, String outputId) {
    LearnedMergeSpec spec = LearnedMergeSpec.of(LearnedMergeSpec.Method.EXPERT_MERGING, steps, null, 2, 32, 2, null, null, null, null, null,
        null, 1L);
    return new MergeRequested(EventCodec.newId(), EventCodec.now(), id, TENANT, "model-base", model,
        List.of(new MergeRequested.Input("adapter-a", lora, 1), new MergeRequested.Input("adapter-b", dora, 1)),
        "expert_merging", 0, 1, 0, outputId, null, List.of(), new MergeRequested.Learned(spec,
            List.of(new MergeRequested.Registered("file-a", List.of(calibrationA)), new MergeRequested.Registered("file-b", List.of(calibrationB)))));
  }

  @Test
  void aLearnedMergeReportsItsStepsAndRegistersItsCoefficients() throws Exception {
    String id = newId();
    String outputId = "model-learned-" + id.substring(6);
    EventLog.publish(Topics.MERGE_COMMANDS, learnedRequest(id, 6, outputId));
    MergeSucceeded done = EventLog.await(Topics.MERGE_EVENTS, MergeSucceeded.class, id, 1, WAIT).get(0);
    List<MergeProgressed> progress = EventLog.awaitAll(Topics.MERGE_EVENTS, MergeProgressed.class, id, Duration.ofSeconds(2));
    assertThat(progress).isNotEmpty();
    assertThat(progress.get(0).step()).isEqualTo(1);
    assertThat(progress.get(progress.size() - 1).step()).isEqualTo(6);
    assertThat(progress.get(0).parts()).containsKeys("logits", "hidden", "pull");
    ObjectRef record = done.files().stream().filter(f -> ObjectLayout.fileName(f.key()).equals("peft_merge.json")).findFirst().orElseThrow();
    JsonNode r = new ObjectMapper().readTree(store.readText(record.key()));
    assertThat(r.path("method").asText()).isEqualTo("expert_merging");
    assertThat(r.path("experts").get(1).path("calibration").asText()).isEqualTo("file-b");
    assertThat(r.path("coefficients").path("model.layers.1.mlp.down_proj").get(0)).hasSize(2);
  }

  @Test
  void aLearnedMergeStopsWhenAskedAndANewAttemptResumesFromTheSavedState() throws Exception {
    // Stopped: the first progress seen, a stop sent on peft.merge-control
    String id = newId();
    EventLog.publish(Topics.MERGE_COMMANDS, learnedRequest(id, 5000, "model-stopped-" + id.substring(6)));
    EventLog.await(Topics.MERGE_EVENTS, MergeProgressed.class, id, 1, WAIT);
    EventLog.publish(Topics.MERGE_CONTROL, new MergeCancelRequested(EventCodec.newId(), EventCodec.now(), id, TENANT));
    MergeCancelled cancelled = EventLog.await(Topics.MERGE_EVENTS, MergeCancelled.class, id, 1, WAIT).get(0);
    assertThat(cancelled.step()).isBetween(1, 4999);
    assertThat(store.list(ObjectLayout.modelPrefix(TENANT, "model-stopped-" + id.substring(6)))).isEmpty();

    // Resumed: an earlier attempt died after saving its state at step 3; the next starts at step 4
    String resumed = newId();
    MergeRequested r = learnedRequest(resumed, 8, "model-resumed-" + resumed.substring(6));
    LearnedMerge run = LearnedMerge.prepare(r.learned().spec(), local.resolve("model"), List.of(
        new LearnedMerge.ExpertInput("adapter-a", local.resolve("lora"), false, "file-a", local.resolve("a.jsonl")),
        new LearnedMerge.ExpertInput("adapter-b", local.resolve("dora"), false, "file-b", local.resolve("b.jsonl"))), List.of(), DataType.FLOAT);
    CancellationToken stop = new CancellationToken();
    LearnedMerge.State state = run.run(s -> {
      if (s.step() == 2) {
        stop.cancel();
      }
    }, stop, null);
    assertThat(state.step()).isEqualTo(3);
    String ghost = ObjectLayout.mergePrefix(TENANT, resumed) + "attempts/001-ghost/";
    byte[] started = "{}".getBytes();
    store.put(ghost + "started.json", new java.io.ByteArrayInputStream(started), started.length);
    byte[] saved = new ObjectMapper().writeValueAsBytes(state);
    store.put(ghost + "learned-state.json", new java.io.ByteArrayInputStream(saved), saved.length);
    EventLog.publish(Topics.MERGE_COMMANDS, r);
    EventLog.await(Topics.MERGE_EVENTS, MergeSucceeded.class, resumed, 1, WAIT);
    List<MergeProgressed> steps = EventLog.awaitAll(Topics.MERGE_EVENTS, MergeProgressed.class, resumed, Duration.ofSeconds(2));
    assertThat(steps.get(0).step()).isEqualTo(4);
    assertThat(steps.get(0).resumedFrom()).isEqualTo(3);
    assertThat(steps.get(steps.size() - 1).step()).isEqualTo(8);
  }

  /** The control topic as TopicSetup makes it — one partition, compacted — not as a reader's metadata request would. */
  @Test
  void theControlTopicIsOnePartitionCompacted() throws Exception {
    String bootstrap = org.eclipse.microprofile.config.ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class);
    try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
        java.util.Map.of(org.apache.kafka.clients.admin.AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      var topic = admin.describeTopics(List.of(Topics.MERGE_CONTROL)).allTopicNames().get().get(Topics.MERGE_CONTROL);
      assertThat(topic.partitions()).hasSize(1);
      var resource = new org.apache.kafka.common.config.ConfigResource(org.apache.kafka.common.config.ConfigResource.Type.TOPIC,
          Topics.MERGE_CONTROL);
      assertThat(admin.describeConfigs(List.of(resource)).all().get().get(resource).get("cleanup.policy").value()).isEqualTo("compact");
    }
  }
}

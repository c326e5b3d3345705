package io.peftplatform.artifacts;

import static io.peftplatform.artifacts.ModelResourceTest.as;
import static io.peftplatform.artifacts.ModelResourceTest.awaitStatus;
import static io.peftplatform.artifacts.ModelResourceTest.upload;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;

import io.peftplatform.events.EventCodec;
import io.peftplatform.events.JobSucceeded;
import io.peftplatform.events.MergeCancelRequested;
import io.peftplatform.events.MergeCancelled;
import io.peftplatform.events.MergeFailed;
import io.peftplatform.events.MergeProgressed;
import io.peftplatform.events.MergeRequested;
import io.peftplatform.events.MergeSucceeded;
import io.peftplatform.events.ModelChanged;
import io.peftplatform.events.ObjectRef;
import io.peftplatform.events.Topics;
import io.peftplatform.storage.ObjectLayout;
import io.peftplatform.storage.ObjectStore;
import io.peftplatform.testsupport.EventLog;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * POST /v1/merges against the registry: requests validated field by field, sent to the merging workers,
 * and their outcome (published here as a merging worker would) registering a model or an adapter.
 */
@QuarkusTest
class MergeResourceTest {
  static final Duration WAIT = Duration.ofSeconds(30);

  @Inject ObjectStore store;
  @TempDir Path dir;

  private ObjectRef put(String key, String content) {
    byte[] b = content.getBytes(StandardCharsets.UTF_8);
    return store.put(key, new ByteArrayInputStream(b), b.length);
  }

  /** A ready model of the tenant with two adapters trained on it (registered as jobs register them). */
  private String[] modelWithAdapters(String tenant) throws Exception {
    String model = upload(tenant, TinyModel.write(dir.resolve("tiny-" + System.nanoTime())), "tiny").post("/v1/models").then().statusCode(201).extract().path("id");
    awaitStatus(tenant, model, "ready");
    String[] ids = {model, null, null};
    for (int i = 1; i <= 2; i++) {
      String job = "ftjob-" + Long.toHexString(System.nanoTime());
      String prefix = ObjectLayout.adapterPrefix(tenant, Adapter.idForJob(job));
      EventLog.publish(Topics.JOB_EVENTS, new JobSucceeded(EventCodec.newId(), Instant.now(), job, tenant, model, "lora",
          List.of(put(prefix + "adapter_config.json", "{}"), put(prefix + "adapter_model.safetensors", "w")), 10, Map.of(), "completed"));
      ids[i] = Adapter.idForJob(job);
      String adapter = ids[i];
      Awaitility.await().atMost(WAIT).until(() -> as(tenant).get("/v1/adapters/" + adapter).statusCode() == 200);
    }
    return ids;
  }

  @Test
  void aMergeIsSentToTheWorkersAndItsModelRegisteredWhenItSucceeds() throws Exception {
    String[] ids = modelWithAdapters("merge-acme");
    JsonPath created = as("merge-acme").contentType("application/json")
        .body("{\"model\": \"" + ids[0] + "\", \"adapters\": [{\"id\": \"" + ids[1] + "\", \"weight\": 0.7}, \"" + ids[2] + "\"],"
            + " \"method\": \"ties\", \"density\": 0.4, \"name\": \"blend\"}")
        .post("/v1/merges").then().statusCode(201).body("id", startsWith("merge-")).body("status", equalTo("queued"))
        .body("output_type", equalTo("model")).body("density", equalTo(0.4f)).extract().jsonPath();
    String mergeId = created.getString("id");
    assertThat(created.getList("adapters.weight")).containsExactly(0.7f, 1.0f);

    MergeRequested request = EventLog.await(Topics.MERGE_COMMANDS, MergeRequested.class, mergeId, 1, WAIT).get(0);
    assertThat(request.modelFiles()).extracting(f -> ObjectLayout.fileName(f.key())).contains("model.safetensors");
    assertThat(request.adapters()).extracting(MergeRequested.Input::adapterId).containsExactly(ids[1], ids[2]);
    assertThat(request.rank()).isZero();
    assertThat(request.outputId()).startsWith("model-");

    String prefix = ObjectLayout.modelPrefix("merge-acme", request.outputId());
    MergeSucceeded done = new MergeSucceeded(EventCodec.newId(), Instant.now(), mergeId, "merge-acme", ids[0], "model", request.outputId(),
        List.of(put(prefix + "config.json", "{}"), put(prefix + "model.safetensors", "w")), 1234, "LlamaForCausalLM");
    EventLog.publish(Topics.MERGE_EVENTS, done);
    EventLog.publish(Topics.MERGE_EVENTS, done); // redelivered
    Awaitility.await().atMost(WAIT).until(() -> "succeeded".equals(as("merge-acme").get("/v1/merges/" + mergeId).jsonPath().getString("status")));
    as("merge-acme").get("/v1/merges/" + mergeId).then().body("output_id", equalTo(request.outputId()));
    JsonPath model = as("merge-acme").get("/v1/models/" + request.outputId()).then().statusCode(200).extract().jsonPath();
    assertThat(model.getString("status")).isEqualTo("ready");
    assertThat(model.getString("name")).isEqualTo("blend");
    assertThat(model.getString("source")).isEqualTo("merge:" + mergeId);
    assertThat(EventLog.await(Topics.ARTIFACT_EVENTS, ModelChanged.class, request.outputId(), 1, WAIT).get(0).status()).isEqualTo("ready");
    as("merge-other").get("/v1/merges/" + mergeId).then().statusCode(404);
  }

  @Test
  void anAdapterMergeRegistersAnAdapterAndAFailedOneSaysWhy() throws Exception {
    String[] ids = modelWithAdapters("merge-beta");
    String body = "{\"model\": \"" + ids[0] + "\", \"adapters\": [\"" + ids[1] + "\", \"" + ids[2] + "\"], \"method\": \"linear\","
        + " \"output\": {\"type\": \"adapter\", \"rank\": 8}}";
    String mergeId = as("merge-beta").contentType("application/json").body(body).post("/v1/merges").then().statusCode(201).extract().path("id");
    MergeRequested request = EventLog.await(Topics.MERGE_COMMANDS, MergeRequested.class, mergeId, 1, WAIT).get(0);
    assertThat(request.rank()).isEqualTo(8);
    String prefix = ObjectLayout.adapterPrefix("merge-beta", request.outputId());
    EventLog.publish(Topics.MERGE_EVENTS, new MergeSucceeded(EventCodec.newId(), Instant.now(), mergeId, "merge-beta", ids[0], "adapter",
        request.outputId(), List.of(put(prefix + "adapter_config.json", "{}"), put(prefix + "peft_merge.json", "{\"method\": \"linear\"}")), 99, null));
    Awaitility.await().atMost(WAIT).until(() -> as("merge-beta").get("/v1/adapters/" + request.outputId()).statusCode() == 200);
    JsonPath adapter = as("merge-beta").get("/v1/adapters/" + request.outputId()).jsonPath();
    assertThat(adapter.getString("merge_id")).isEqualTo(mergeId);
    assertThat(adapter.getString("job_id")).isNull();
    assertThat(adapter.getString("model_id")).isEqualTo(ids[0]);
    assertThat(adapter.getString("lineage.method")).isEqualTo("linear");

    String failing = as("merge-beta").contentType("application/json").body(body).post("/v1/merges").then().statusCode(201).extract().path("id");
    EventLog.publish(Topics.MERGE_EVENTS, new MergeFailed(EventCodec.newId(), Instant.now(), failing, "merge-beta", "merge_failed",
        "rank: must be between 1 and 16"));
    Awaitility.await().atMost(WAIT).until(() -> "failed".equals(as("merge-beta").get("/v1/merges/" + failing).jsonPath().getString("status")));
    as("merge-beta").get("/v1/merges/" + failing).then().body("error.code", equalTo("merge_failed"))
        .body("error.message", equalTo("rank: must be between 1 and 16")).body("output_id", equalTo(null));
    assertThat(as("merge-beta").get("/v1/merges?limit=10").jsonPath().getList("data.id")).containsExactly(failing, mergeId);
  }

  @Test
  void badRequestsNameTheFieldAtFault() throws Exception {
    String[] ids = modelWithAdapters("merge-gamma");
    String[] otherModel = modelWithAdapters("merge-gamma");
    String a = "\"" + ids[1] + "\"";
    Object[][] cases = {
        {"[]", null},
        {"{\"adapters\": [" + a + "]}", "model"},
        {"{\"model\": \"model-nope\", \"adapters\": [" + a + "]}", "model"},
        {"{\"model\": \"" + ids[0] + "\"}", "adapters"},
        {"{\"model\": \"" + ids[0] + "\", \"adapters\": [" + a + ", {\"id\": \"adapter-nope\"}]}", "adapters[1].id"},
        {"{\"model\": \"" + ids[0] + "\", \"adapters\": [\"" + otherModel[1] + "\"]}", "adapters[0].id"},
        {"{\"model\": \"" + ids[0] + "\", \"adapters\": [{\"id\": " + a + ", \"weight\": \"heavy\"}]}", "adapters[0].weight"},
        {"{\"model\": \"" + ids[0] + "\", \"adapters\": [" + a + "], \"method\": \"slerp\"}", "method"},
        {"{\"model\": \"" + ids[0] + "\", \"adapters\": [" + a + "], \"method\": \"ties\", \"density\": 1.5}", "density"},
        {"{\"model\": \"" + ids[0] + "\", \"adapters\": [" + a + "], \"seed\": \"x\"}", "seed"},
        {"{\"model\": \"" + ids[0] + "\", \"adapters\": [" + a + "], \"output\": {\"type\": \"adapter\"}}", "output.rank"},
        {"{\"model\": \"" + ids[0] + "\", \"adapters\": [" + a + "], \"output\": {\"type\": \"gguf\"}}", "output.type"},
        {"{\"model\": \"" + ids[0] + "\", \"adapters\": [{\"id\": " + a + ", \"weight\": 1}, {\"id\": \"" + ids[2] + "\", \"weight\": -1}],"
            + " \"method\": \"linear\"}", "adapters"},
    };
    for (Object[] c : cases) {
      as("merge-gamma").contentType("application/json").body((String) c[0]).post("/v1/merges").then()
          .statusCode(400).contentType("application/problem+json").body("field", equalTo(c[1]));
    }
    as("merge-delta").contentType("application/json").body("{\"model\": \"" + ids[0] + "\", \"adapters\": [" + a + "]}")
        .post("/v1/merges").then().statusCode(400).body("field", equalTo("model")); // another tenant's model
  }

  @Test
  void aMergekitConfigNamingRegisteredIdsIsSentWithEveryModelsFiles() throws Exception {
    String[] ids = modelWithAdapters("merge-kit");
    String[] second = modelWithAdapters("merge-kit");
    String yaml = """
        merge_method: slerp
        base_model: %s
        models:
          - model: %s
          - model: %s+%s
        parameters:
          t: [0, 0.5, 1]
        """.formatted(ids[0], ids[0], second[0], second[1]);
    // the adapter of the second model belongs to it: fine; the request names config, seed and name only
    String body = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode().put("config", yaml).put("seed", 4).toString();
    JsonPath created = as("merge-kit").contentType("application/json").body(body).post("/v1/merges").then().statusCode(201)
        .body("status", equalTo("queued")).body("method", equalTo("slerp")).body("output_type", equalTo("model"))
        .body("config", equalTo(yaml)).extract().jsonPath();
    MergeRequested request = EventLog.await(Topics.MERGE_COMMANDS, MergeRequested.class, created.getString("id"), 1, WAIT).get(0);
    assertThat(request.config()).isEqualTo(yaml);
    assertThat(request.modelId()).isEqualTo(ids[0]);
    assertThat(request.models()).extracting(MergeRequested.Registered::id).containsExactly(ids[0], second[0], second[1]);
    assertThat(request.models().get(2).files()).extracting(f -> ObjectLayout.fileName(f.key())).contains("adapter_model.safetensors");
    assertThat(request.outputId()).startsWith("model-");

    // the same configuration as a JSON object
    String json = "{\"config\": {\"merge_method\": \"task_arithmetic\", \"base_model\": \"" + ids[0] + "\", \"models\": [{\"model\": \""
        + second[0] + "\", \"parameters\": {\"weight\": 0.5}}]}}";
    String fromJson = as("merge-kit").contentType("application/json").body(json).post("/v1/merges").then().statusCode(201)
        .body("method", equalTo("task_arithmetic")).extract().path("id");
    assertThat(EventLog.await(Topics.MERGE_COMMANDS, MergeRequested.class, fromJson, 1, WAIT).get(0).models()).hasSize(2);
  }

  @Test
  void badMergekitConfigsNameTheConfig() throws Exception {
    String[] ids = modelWithAdapters("merge-kit-bad");
    String[] other = modelWithAdapters("merge-kit-bad");
    String[] foreign = modelWithAdapters("merge-kit-foreign");
    java.util.function.Function<String, String> config = yaml -> new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode()
        .put("config", yaml).toString();
    Object[][] cases = {
        {config.apply("merge_method: karcher\nmodels: [{model: " + ids[0] + "}]"), "config", "merge_method: unknown method 'karcher'"},
        {config.apply("merge_method: linear\nmodels: [{model: ../../etc/passwd}]"), "config", "not a registered model id"},
        {config.apply("merge_method: linear\nmodels: [{model: " + foreign[0] + "}]"), "config", "no model " + foreign[0]},
        {config.apply("merge_method: linear\nmodels: [{model: " + ids[0] + "+" + foreign[1] + "}]"), "config", "no adapter " + foreign[1]},
        {config.apply("merge_method: linear\nmodels: [{model: " + ids[0] + "+" + other[1] + "}]"), "config", "belongs to model " + other[0]},
        {config.apply("merge_method: linear\nmodels: [{model: " + ids[0] + "}]\ntokenizer_source: " + other[0]), "config", "tokenizer_source"},
        {config.apply("merge_method: linear\nmodels: [{model: " + ids[0] + "]"), "config", "not valid YAML"},
        {config.apply("x".repeat(70_000)), "config", "at most 65536"},
        {"{\"config\": 7}", "config", "mergekit's YAML"},
        {"{\"config\": \"merge_method: linear\", \"adapters\": []}", "adapters", "leave this out"},
    };
    for (Object[] c : cases) {
      as("merge-kit-bad").contentType("application/json").body((String) c[0]).post("/v1/merges").then()
          .statusCode(400).contentType("application/problem+json").body("field", equalTo(c[1]))
          .body("detail", org.hamcrest.Matchers.containsString((String) c[2]));
    }
  }

  /** A dataset of the tenant, uploaded through the API. */
  private String dataset(String tenant, String... lines) throws Exception {
    Path file = dir.resolve("d-" + System.nanoTime() + ".jsonl");
    java.nio.file.Files.writeString(file, String.join("\n", lines) + "\n");
    return as(tenant).multiPart("file", file.toFile()).post("/v1/files").then().statusCode(201).extract().path("id");
  }

  @Test
  void aLearnedMergeCarriesItsCalibrationReportsProgressAndCanBeCancelled() throws Exception {
    String[] ids = modelWithAdapters("merge-learned");
    String cats = dataset("merge-learned", "{\"text\": \"the cat sat\"}", "{\"text\": \"the dog ran\"}");
    String sums = dataset("merge-learned", "{\"prompt\": \"1+1=\", \"completion\": \"2\"}");
    String body = "{\"model\": \"" + ids[0] + "\", \"method\": \"expert_merging\", \"adapters\": [{\"id\": \"" + ids[1]
        + "\", \"calibration_file\": \"" + cats + "\"}, {\"id\": \"" + ids[2] + "\", \"calibration_file\": \"" + sums + "\"}],"
        + " \"hyperparameters\": {\"steps\": 40, \"chunks\": 4, \"importance_chunking\": true, \"hidden_layers\": [0]}, \"seed\": 7}";
    JsonPath created = as("merge-learned").contentType("application/json").body(body).post("/v1/merges").then().statusCode(201)
        .body("status", equalTo("queued")).body("method", equalTo("expert_merging")).body("hyperparameters.steps", equalTo(40))
        .body("hyperparameters.learning_rate", equalTo(0.05f)).body("hyperparameters.importance_chunking", equalTo(true))
        .body("adapters[1].calibration_file", equalTo(sums)).body("seed", equalTo(7)).body("cancel_requested", equalTo(false))
        .extract().jsonPath();
    String mergeId = created.getString("id");
    MergeRequested request = EventLog.await(Topics.MERGE_COMMANDS, MergeRequested.class, mergeId, 1, WAIT).get(0);
    assertThat(request.learned().spec().steps()).isEqualTo(40);
    assertThat(request.learned().spec().chunks()).isEqualTo(4);
    assertThat(request.learned().spec().hiddenLayers()).containsExactly(0);
    assertThat(request.learned().spec().seed()).isEqualTo(7);
    assertThat(request.learned().calibration()).extracting(MergeRequested.Registered::id).containsExactly(cats, sums);
    assertThat(request.learned().calibration().get(0).files().get(0).key()).isEqualTo(ObjectLayout.datasetKey("merge-learned", cats));

    // progress, as a worker reports it: running with the latest loss
    EventLog.publish(Topics.MERGE_EVENTS, new MergeProgressed(EventCodec.newId(), Instant.now(), mergeId, "merge-learned", 12, 40, 0.25,
        Map.of("logits", 0.2, "hidden", 0.04, "pull", 0.01), 10));
    Awaitility.await().atMost(WAIT).until(() -> "running".equals(as("merge-learned").get("/v1/merges/" + mergeId).jsonPath().getString("status")));
    as("merge-learned").get("/v1/merges/" + mergeId).then().body("progress.step", equalTo(12)).body("progress.steps", equalTo(40))
        .body("progress.loss", equalTo(0.25f)).body("progress.parts.hidden", equalTo(0.04f)).body("progress.resumed_from", equalTo(10));

    // a running merge is asked to stop, and cancelled once its worker says so; then it cannot be cancelled again
    as("merge-learned").post("/v1/merges/" + mergeId + "/cancel").then().statusCode(200).body("status", equalTo("running"))
        .body("cancel_requested", equalTo(true));
    EventLog.await(Topics.MERGE_CONTROL, MergeCancelRequested.class, mergeId, 1, WAIT);
    EventLog.publish(Topics.MERGE_EVENTS, new MergeCancelled(EventCodec.newId(), Instant.now(), mergeId, "merge-learned", 13));
    Awaitility.await().atMost(WAIT).until(() -> "cancelled".equals(as("merge-learned").get("/v1/merges/" + mergeId).jsonPath().getString("status")));
    as("merge-learned").post("/v1/merges/" + mergeId + "/cancel").then().statusCode(409).body("field", equalTo("id"));
    as("merge-other").post("/v1/merges/" + mergeId + "/cancel").then().statusCode(404);

    // AdaMerging on one shared dataset, into a LoRA; cancelled while queued: at once
    String ada = as("merge-learned").contentType("application/json").body("{\"model\": \"" + ids[0] + "\", \"method\": \"ada_merging\","
        + " \"adapters\": [\"" + ids[1] + "\", {\"id\": \"" + ids[2] + "\"}], \"calibration_file\": \"" + cats + "\","
        + " \"output\": {\"type\": \"adapter\", \"rank\": 4}}").post("/v1/merges").then().statusCode(201)
        .body("calibration_file", equalTo(cats)).body("hyperparameters.initial_coefficient", equalTo(0.3f)).extract().path("id");
    MergeRequested adaRequest = EventLog.await(Topics.MERGE_COMMANDS, MergeRequested.class, ada, 1, WAIT).get(0);
    assertThat(adaRequest.learned().calibration()).extracting(MergeRequested.Registered::id).containsExactly(cats);
    assertThat(adaRequest.rank()).isEqualTo(4);
    as("merge-learned").post("/v1/merges/" + ada + "/cancel").then().statusCode(200).body("status", equalTo("cancelled"));
    EventLog.await(Topics.MERGE_CONTROL, MergeCancelRequested.class, ada, 1, WAIT);
    // the worker's late word changes nothing
    EventLog.publish(Topics.MERGE_EVENTS, new MergeProgressed(EventCodec.newId(), Instant.now(), ada, "merge-learned", 1, 100, 2.0, Map.of(), 0));
    EventLog.publish(Topics.MERGE_EVENTS, new MergeCancelled(EventCodec.newId(), Instant.now(), ada, "merge-learned", 0));
    Thread.sleep(500);
    as("merge-learned").get("/v1/merges/" + ada).then().body("status", equalTo("cancelled")).body("progress", equalTo(null));
  }

  @Test
  void badLearnedMergesNameTheFieldAtFault() throws Exception {
    String[] ids = modelWithAdapters("merge-learned-bad");
    String text = dataset("merge-learned-bad", "{\"text\": \"hello there\"}");
    String pairs = dataset("merge-learned-bad", "{\"prompt\": \"p\", \"chosen\": \"a\", \"rejected\": \"b\"}");
    String foreign = dataset("merge-learned-foreign", "{\"text\": \"not yours\"}");
    String m = "\"model\": \"" + ids[0] + "\"";
    java.util.function.Function<String, String> em = calibration -> "{" + m + ", \"method\": \"expert_merging\", \"adapters\": [{\"id\": \""
        + ids[1] + "\", \"calibration_file\": \"" + calibration + "\"}]";
    Object[][] cases = {
        {"{" + m + ", \"method\": \"expert_merging\", \"adapters\": [\"" + ids[1] + "\"]}", "adapters[0].calibration_file", "is required"},
        {em.apply(text) + ", \"calibration_file\": \"" + text + "\"}", "calibration_file", "per adapter"},
        {"{" + m + ", \"method\": \"expert_merging\", \"adapters\": [{\"id\": \"" + ids[1] + "\", \"weight\": 2, \"calibration_file\": \""
            + text + "\"}]}", "adapters[0].weight", "learns its coefficients"},
        {em.apply(foreign) + "}", "adapters[0].calibration_file", "no dataset " + foreign},
        {em.apply(pairs) + "}", "adapters[0].calibration_file", "prompt_chosen_rejected"},
        {em.apply("../../etc/passwd") + "}", "adapters[0].calibration_file", ""},
        {em.apply(text) + ", \"hyperparameters\": {\"steps\": 0}}", "hyperparameters.steps", "must be in [1, 10000]"},
        {em.apply(text) + ", \"hyperparameters\": {\"steps\": 1e9}}", "hyperparameters.steps", "integer"},
        {em.apply(text) + ", \"hyperparameters\": {\"chunks\": 65}}", "hyperparameters.chunks", "[1, 64]"},
        {em.apply(text) + ", \"hyperparameters\": {\"initial_coefficient\": 1}}", "hyperparameters.initial_coefficient", "(0, 1)"},
        {em.apply(text) + ", \"hyperparameters\": {\"hidden_layers\": [\"middle\"]}}", "hyperparameters.hidden_layers", "layer numbers"},
        {em.apply(text) + ", \"hyperparameters\": {\"warmup\": 3}}", "hyperparameters.warmup", ""},
        {em.apply(text) + ", \"hyperparameters\": [1]}", "hyperparameters", "object"},
        {em.apply(text) + ", \"density\": 0.5}", "density", "takes no density"},
        {"{" + m + ", \"method\": \"ada_merging\", \"adapters\": [\"" + ids[1] + "\"]}", "calibration_file", "is required"},
        {"{" + m + ", \"method\": \"ada_merging\", \"adapters\": [{\"id\": \"" + ids[1] + "\", \"calibration_file\": \"" + text + "\"}],"
            + " \"calibration_file\": \"" + text + "\"}", "adapters[0].calibration_file", "at the top"},
        {"{" + m + ", \"method\": \"ada_merging\", \"adapters\": [\"" + ids[1] + "\"], \"calibration_file\": \"" + text + "\","
            + " \"hyperparameters\": {\"importance_chunking\": true}}", "hyperparameters.importance_chunking", "expert_merging"},
        {"{" + m + ", \"adapters\": [\"" + ids[1] + "\"], \"hyperparameters\": {}}", "hyperparameters", "learned merges"},
    };
    for (Object[] c : cases) {
      as("merge-learned-bad").contentType("application/json").body((String) c[0]).post("/v1/merges").then()
          .statusCode(400).contentType("application/problem+json").body("field", equalTo(c[1]))
          .body("detail", org.hamcrest.Matchers.containsString((String) c[2]));
    }
  }
}

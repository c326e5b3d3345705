package io.peftplatform.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftplatform.client.PeftApiException;
import io.peftplatform.client.PeftClient;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Merges through the public API on the running stack: two adapters trained by jobs, merged by the
 * merging worker into a model (tried by generation) and into one LoRA (downloaded and evaluated).
 */
class MergeFlowTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static PeftClient client;
  static String modelId;
  static String first;
  static String second;
  static String datasetId;

  @BeforeAll
  static void trainTwoAdapters() {
    client = RunningStack.tenant("e2e-merge");
    modelId = client.uploadModel(RunningStack.tinyModel(), "tiny").path("id").asText();
    assertThat(RunningStack.ready(client, modelId).path("status").asText()).isEqualTo("ready");
    datasetId = client.uploadDataset(FineTuningFlowTest.opposites(), "opposites.jsonl").path("id").asText();
    String[] adapters = new String[2];
    for (int i = 0; i < 2; i++) {
      ObjectNode request = JSON.createObjectNode().put("model", modelId).put("training_file", datasetId).put("seed", 20 + i);
      request.putObject("adapter").put("type", i == 0 ? "lora" : "dora").put("rank", 4);
      request.putObject("hyperparameters").put("n_epochs", 4).put("learning_rate", 1e-2).put("batch_size", 10);
      JsonNode job = client.awaitJob(client.createJob(request).path("id").asText(), RunningStack.JOB_TIMEOUT);
      assertThat(job.path("status").asText()).as(job.toString()).isEqualTo("succeeded");
      adapters[i] = job.path("fine_tuned_model").asText();
    }
    first = adapters[0];
    second = adapters[1];
  }

  @AfterAll
  static void close() {
    client.close();
  }

  ObjectNode merge(String method, String... adapters) {
    ObjectNode request = JSON.createObjectNode().put("model", modelId).put("method", method);
    for (String a : adapters) {
      request.withArray("adapters").addObject().put("id", a).put("weight", 1.0);
    }
    return request;
  }

  @Test
  void anAdapterMergedIntoItsBaseIsAModelThatGeneratesLikeTheAdapter() {
    JsonNode created = client.createMerge(merge("task_arithmetic", first).put("name", "tiny + lora"));
    assertThat(created.path("status").asText()).isEqualTo("queued");
    JsonNode merge = client.awaitMerge(created.path("id").asText(), RunningStack.JOB_TIMEOUT);
    assertThat(merge.path("status").asText()).as(merge.toString()).isEqualTo("succeeded");
    String merged = merge.path("output_id").asText();
    JsonNode model = client.getModel(merged);
    assertThat(model.path("status").asText()).isEqualTo("ready");
    assertThat(model.path("name").asText()).isEqualTo("tiny + lora");
    assertThat(model.path("source").asText()).isEqualTo("merge:" + merge.path("id").asText());

    ObjectNode prompt = JSON.createObjectNode().put("prompt", "hot is the opposite of").put("max_tokens", 4).put("temperature", 0.0);
    String asModel = client.completion(prompt.deepCopy().put("model", merged)).at("/choices/0/text").asText();
    String asAdapter = client.completion(prompt.deepCopy().put("model", first)).at("/choices/0/text").asText();
    assertThat(asModel).isEqualTo(asAdapter).isNotEmpty();
  }

  @Test
  void aMergekitConfigOverRegisteredIdsFoldsAnAdapterIntoANewModel() {
    // task arithmetic of model+adapter with weight 1 is the adapter folded in: it generates like the adapter
    String yaml = """
        merge_method: task_arithmetic
        base_model: %s
        models:
          - model: %s+%s
            parameters:
              weight: 1.0
        """.formatted(modelId, modelId, first);
    JsonNode created = client.createMerge(JSON.createObjectNode().put("config", yaml).put("name", "mergekit fold"));
    JsonNode merge = client.awaitMerge(created.path("id").asText(), RunningStack.JOB_TIMEOUT);
    assertThat(merge.path("status").asText()).as(merge.toString()).isEqualTo("succeeded");
    assertThat(merge.path("method").asText()).isEqualTo("task_arithmetic");
    String merged = merge.path("output_id").asText();
    assertThat(client.getModel(merged).path("status").asText()).isEqualTo("ready");
    ObjectNode prompt = JSON.createObjectNode().put("prompt", "cold is the opposite of").put("max_tokens", 4).put("temperature", 0.0);
    String asModel = client.completion(prompt.deepCopy().put("model", merged)).at("/choices/0/text").asText();
    String asAdapter = client.completion(prompt.deepCopy().put("model", first)).at("/choices/0/text").asText();
    assertThat(asModel).isEqualTo(asAdapter).isNotEmpty();
  }

  @Test
  void twoAdaptersMergedByTiesIntoOneLoraLowerTheLoss() throws Exception {
    ObjectNode request = merge("ties", first, second).put("density", 0.7);
    request.putObject("output").put("type", "adapter").put("rank", 8);
    JsonNode merge = client.awaitMerge(client.createMerge(request).path("id").asText(), RunningStack.JOB_TIMEOUT);
    assertThat(merge.path("status").asText()).as(merge.toString()).isEqualTo("succeeded");
    String adapterId = merge.path("output_id").asText();
    JsonNode adapter = client.getAdapter(adapterId);
    assertThat(adapter.path("merge_id").asText()).isEqualTo(merge.path("id").asText());
    assertThat(adapter.at("/lineage/method").asText()).isEqualTo("ties");

    Path downloaded = RunningStack.scratch("merged-" + adapterId);
    client.downloadAdapter(adapterId, downloaded);
    assertThat(JSON.readTree(downloaded.resolve("adapter_config.json").toFile()).path("r").asInt()).isEqualTo(8);
    double base = FineTuningFlowTest.loss(RunningStack.tinyModel(), null);
    double merged = FineTuningFlowTest.loss(RunningStack.tinyModel(), downloaded);
    assertThat(merged).as("merged adapter %.4f, base %.4f", merged, base).isLessThan(base - 0.1);

    // Tried on the platform like a trained adapter.
    JsonNode tried = client.completion(JSON.createObjectNode().put("model", adapterId)
        .put("prompt", "up is the opposite of").put("max_tokens", 3).put("temperature", 0));
    assertThat(tried.at("/choices/0/text").asText()).isNotEmpty();
  }

  @Test
  void aMergeTheWorkerCannotDoFailsWithTheReasonAndBadRequestsAreRefused() {
    ObjectNode request = merge("linear", first, second);
    request.putObject("output").put("type", "adapter").put("rank", 4000);
    JsonNode merge = client.awaitMerge(client.createMerge(request).path("id").asText(), RunningStack.JOB_TIMEOUT);
    assertThat(merge.path("status").asText()).isEqualTo("failed");
    assertThat(merge.at("/error/message").asText()).startsWith("rank: must be between 1 and");

    assertThatThrownBy(() -> client.createMerge(merge("slerp", first))).isInstanceOfSatisfying(PeftApiException.class,
        e -> assertThat(e.field()).isEqualTo("method"));
    try (PeftClient stranger = RunningStack.tenant("e2e-merge-stranger")) {
      assertThatThrownBy(() -> stranger.getMerge(merge.path("id").asText())).isInstanceOfSatisfying(PeftApiException.class,
          e -> assertThat(e.status()).isEqualTo(404));
    }
  }

  ObjectNode learned(int steps) {
    ObjectNode request = JSON.createObjectNode().put("model", modelId).put("method", "expert_merging").put("seed", 3);
    for (String a : new String[] {first, second}) {
      request.withArray("adapters").addObject().put("id", a).put("calibration_file", datasetId);
    }
    request.putObject("hyperparameters").put("steps", steps).put("chunks", 2).put("batch_size", 4).put("max_seq_len", 32);
    return request;
  }

  @Test
  void aLearnedMergeRunsOnTheWorkerReportsItsStepsAndCanBeStopped() {
    JsonNode merge = client.awaitMerge(client.createMerge(learned(8).put("name", "learned")).path("id").asText(), RunningStack.JOB_TIMEOUT);
    assertThat(merge.path("status").asText()).as(merge.toString()).isEqualTo("succeeded");
    assertThat(merge.at("/progress/step").asInt()).isEqualTo(8);
    assertThat(merge.at("/progress/parts").has("logits")).isTrue();
    String merged = merge.path("output_id").asText();
    assertThat(client.getModel(merged).path("status").asText()).isEqualTo("ready");
    JsonNode tried = client.completion(JSON.createObjectNode().put("model", merged).put("prompt", "up is the opposite of")
        .put("max_tokens", 3).put("temperature", 0));
    assertThat(tried.at("/choices/0/text").asText()).isNotEmpty();

    // a long one, stopped once it runs
    String id = client.createMerge(learned(10_000)).path("id").asText();
    long deadline = System.nanoTime() + RunningStack.JOB_TIMEOUT.toNanos();
    while (!client.getMerge(id).path("status").asText().equals("running")) {
      assertThat(System.nanoTime()).as("merge %s never ran", id).isLessThan(deadline);
      RunningStack.sleep(200);
    }
    assertThat(client.cancelMerge(id).path("cancel_requested").asBoolean()).isTrue();
    JsonNode stopped = client.awaitMerge(id, RunningStack.JOB_TIMEOUT);
    assertThat(stopped.path("status").asText()).isEqualTo("cancelled");
    assertThat(stopped.has("output_id")).isFalse();
  }
}

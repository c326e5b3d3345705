package io.peftplatform.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftplatform.client.PeftApiException;
import io.peftplatform.client.PeftClient;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.ThrowingSupplier;

/** Bad requests and uploads through the public address: 4xx problem documents naming the field, never a 500. */
class MalformedInputTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static String key;
  static PeftClient client;
  static String modelId;
  static String datasetId;

  @BeforeAll
  static void setUp() {
    key = RunningStack.tenantKey("e2e-malformed");
    client = new PeftClient(RunningStack.get().url(), key);
    modelId = client.uploadModel(RunningStack.tinyModel(), "tiny").path("id").asText();
    RunningStack.ready(client, modelId);
    datasetId = client.uploadDataset(DemoContent.dataset(), "ok.jsonl").path("id").asText();
  }

  @AfterAll
  static void close() {
    client.close();
  }

  private static PeftApiException refused(ThrowingSupplier<?> call) {
    PeftApiException e = catchThrowableOfType(PeftApiException.class, () -> call.get());
    assertThat(e).as("expected a refusal").isNotNull();
    assertThat(e.status()).isBetween(400, 499);
    return e;
  }

  @Test
  void requestsWithoutAValidKeyAreRefusedWithAProblem() throws Exception {
    HttpResponse<String> none = raw("GET", "/v1/fine_tuning/jobs", null, null);
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(none.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/problem+json"));
    assertThat(raw("GET", "/v1/models", "Bearer not-a-key", null).statusCode()).isEqualTo(401);
    // The tenant is the key's: headers meant for the services behind the gateway are dropped.
    HttpResponse<String> spoof = raw("GET", "/v1/models", "Bearer " + key, "X-Peft-Tenant");
    assertThat(spoof.statusCode()).isEqualTo(200);
    assertThat(spoof.body()).contains(modelId);
  }

  @Test
  void aDatasetWithBadLinesIsRefusedLineByLine() {
    String jsonl = "{\"prompt\": \"a\", \"completion\": \"b\"}\nnot json\n{\"prompt\": \"c\"}\n";
    PeftApiException e = refused(() -> client.uploadDataset(jsonl, "bad.jsonl"));
    assertThat(e.status()).isEqualTo(400);
    assertThat(e.field()).isEqualTo("file");
    assertThat(e.getMessage()).contains("2 of 3 lines are invalid");
    JsonNode errors = e.problem().path("errors");
    assertThat(errors).extracting(x -> x.path("line").asInt()).containsExactly(2, 3);
    assertThat(errors.get(1).path("field").asText()).isEqualTo("completion");
  }

  @Test
  void aModelWithoutATokenizerOrOfAnotherArchitectureIsRefusedWithTheReason() throws IOException {
    Path noTokenizer = copyOfTinyModel("no-tokenizer");
    Files.delete(noTokenizer.resolve("tokenizer.json"));
    JsonNode m = RunningStack.ready(client, client.uploadModel(noTokenizer, "no-tokenizer").path("id").asText());
    assertThat(m.path("status").asText()).isEqualTo("failed");
    assertThat(m.toString()).contains("tokenizer.json");

    Path gpt2 = copyOfTinyModel("gpt2");
    String config = Files.readString(gpt2.resolve("config.json")).replace("LlamaForCausalLM", "GPT2LMHeadModel");
    Files.writeString(gpt2.resolve("config.json"), config);
    JsonNode g = RunningStack.ready(client, client.uploadModel(gpt2, "gpt2").path("id").asText());
    assertThat(g.path("status").asText()).isEqualTo("failed");
    assertThat(g.toString()).contains("GPT2LMHeadModel").contains("LlamaForCausalLM");

    // and a job on a failed model is refused naming the field
    ObjectNode request = JSON.createObjectNode().put("model", g.path("id").asText()).put("training_file", datasetId);
    assertThat(refused(() -> client.createJob(request)).field()).isEqualTo("model");
  }

  @Test
  void badJobRequestsNameTheField() throws Exception {
    ObjectNode unknownMethod = JSON.createObjectNode().put("model", modelId).put("training_file", datasetId);
    unknownMethod.putObject("adapter").put("type", "qlora");
    assertThat(refused(() -> client.createJob(unknownMethod)).field()).isEqualTo("adapter.type");

    ObjectNode badRate = JSON.createObjectNode().put("model", modelId).put("training_file", datasetId);
    badRate.putObject("hyperparameters").put("learning_rate", -1);
    assertThat(refused(() -> client.createJob(badRate)).field()).isEqualTo("hyperparameters.learning_rate");

    ObjectNode noSuchFile = JSON.createObjectNode().put("model", modelId).put("training_file", "file-0000");
    assertThat(refused(() -> client.createJob(noSuchFile)).field()).isEqualTo("training_file");

    HttpResponse<String> notJson = raw("POST", "/v1/fine_tuning/jobs", "Bearer " + key, null, "{\"model\": ");
    assertThat(notJson.statusCode()).isEqualTo(400);
    assertThat(notJson.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/problem+json"));

    ObjectNode tooLong = JSON.createObjectNode().put("model", modelId).put("prompt", "hi").put("max_tokens", 1_000_000);
    assertThat(refused(() -> client.completion(tooLong)).field()).isEqualTo("max_tokens");
  }

  private static Path copyOfTinyModel(String name) throws IOException {
    Path dir = RunningStack.scratch(name);
    try (Stream<Path> files = Files.list(RunningStack.tinyModel())) {
      for (Path f : files.toList()) {
        Files.copy(f, dir.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
    }
    return dir;
  }

  private static HttpResponse<String> raw(String method, String path, String authorization, String extraHeader) throws Exception {
    return raw(method, path, authorization, extraHeader, null);
  }

  private static HttpResponse<String> raw(String method, String path, String authorization, String extraHeader, String body)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(RunningStack.get().url() + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .header("Content-Type", "application/json");
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    if (extraHeader != null) {
      b.header(extraHeader, "e2e-someone-else");
    }
    return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}

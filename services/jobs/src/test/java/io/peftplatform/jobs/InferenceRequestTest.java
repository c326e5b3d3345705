package io.peftplatform.jobs;

import static io.peftplatform.jobs.TestResources.keyFor;
import static io.peftplatform.jobs.TestResources.with;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

/**
 * POST /v1/completions and /v1/chat/completions take a model's name, never file lists: the files a
 * worker reads come from the registry alone, so a client cannot hand a worker a path of its choosing.
 * Refusals name the field in both error shapes (problem and OpenAI's envelope).
 */
@QuarkusTest
class InferenceRequestTest {
  @Test
  void clientSuppliedFileListsAreRefused() {
    String key = keyFor("inference-hostile");
    String evil = "{\"model\": \"model-x\", \"prompt\": \"hi\", \"adapter_files\": [{\"key\": \"tenants/inference-hostile/a/b\","
        + " \"sha256\": \"../../../tmp/escaped\", \"bytes\": 1}]}";
    with(key).contentType("application/json").body(evil).post("/v1/completions").then().statusCode(400)
        .contentType("application/problem+json").body("field", equalTo("adapter_files")).body("error.param", equalTo("adapter_files"));
    with(key).contentType("application/json").body("{\"model\": \"model-x\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}],"
        + " \"model_files\": []}").post("/v1/chat/completions").then().statusCode(400).body("field", equalTo("model_files"));
  }

  @Test
  void missingOrMistypedFieldsAreNamed() {
    String key = keyFor("inference-fields");
    with(key).contentType("application/json").body("{\"prompt\": \"hi\"}").post("/v1/completions").then().statusCode(400)
        .contentType("application/problem+json").body("field", equalTo("model")).body("error.type", equalTo("invalid_request_error"));
    with(key).contentType("application/json").body("{\"model\": \"model-x\"}").post("/v1/completions").then().statusCode(400)
        .body("field", equalTo("prompt"));
    with(key).contentType("application/json").body("{\"model\": \"model-x\", \"prompt\": \"hi\", \"max_tokens\": \"many\"}")
        .post("/v1/completions").then().statusCode(400).body("field", equalTo("max_tokens"));
    with(key).contentType("application/json").body("{\"model\": \"model-x\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}],"
        + " \"temperature\": 5}").post("/v1/chat/completions").then().statusCode(400).body("field", equalTo("temperature"));
    with(key).contentType("application/json").body("{\"model\": \"model-x\", \"messages\": [{\"role\": \"user\", \"content\": 7}]}")
        .post("/v1/chat/completions").then().statusCode(400).body("field", equalTo("messages[0].content"));
    with(key).contentType("application/json").body("{\"model\": \"model-x\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}],"
        + " \"tools\": []}").post("/v1/chat/completions").then().statusCode(400).body("field", equalTo("tools"));
  }

  @Test
  void unknownModelsAreNotFound() {
    String key = keyFor("inference-unknown");
    with(key).contentType("application/json").body("{\"model\": \"model-x\", \"prompt\": \"hi\"}").post("/v1/completions").then()
        .statusCode(404).body("field", equalTo("model")).body("detail", equalTo("no model model-x"))
        .body("error.type", equalTo("not_found_error")).body("error.code", equalTo("not_found"));
    with(key).contentType("application/json").body("{\"model\": \"../../etc/passwd\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}")
        .post("/v1/chat/completions").then().statusCode(404).body("field", equalTo("model"));
  }
}

package io.peftplatform.jobs;

import static io.peftplatform.jobs.TestResources.keyFor;
import static io.peftplatform.jobs.TestResources.with;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

/**
 * POST /v1/generate takes ids, never file lists: the files a worker reads come from the registry alone,
 * so a client cannot hand a worker a path of its choosing.
 */
@QuarkusTest
class GenerateRequestTest {
  @Test
  void clientSuppliedFileListsAreRefused() {
    String key = keyFor("generate-hostile");
    String evil = "{\"model\": \"model-x\", \"prompt\": \"hi\", \"adapter_files\": [{\"key\": \"tenants/generate-hostile/a/b\","
        + " \"sha256\": \"../../../tmp/escaped\", \"bytes\": 1}]}";
    with(key).contentType("application/json").body(evil).post("/v1/generate").then().statusCode(400)
        .contentType("application/problem+json").body("field", equalTo("adapter_files"));
    with(key).contentType("application/json").body("{\"model\": \"model-x\", \"prompt\": \"hi\", \"model_files\": []}")
        .post("/v1/generate").then().statusCode(400).body("field", equalTo("model_files"));
  }

  @Test
  void missingOrMistypedFieldsAreNamed() {
    String key = keyFor("generate-fields");
    with(key).contentType("application/json").body("{\"prompt\": \"hi\"}").post("/v1/generate").then().statusCode(400)
        .contentType("application/problem+json").body("field", equalTo("model"));
    with(key).contentType("application/json").body("{\"model\": \"model-x\"}").post("/v1/generate").then().statusCode(400)
        .body("field", equalTo("prompt"));
    with(key).contentType("application/json").body("{\"model\": \"model-x\", \"prompt\": \"hi\", \"max_new_tokens\": \"many\"}")
        .post("/v1/generate").then().statusCode(400).body("field", equalTo("max_new_tokens"));
    with(key).contentType("application/json").body("{\"model\": \"model-x\", \"prompt\": \"hi\"}").post("/v1/generate").then()
        .statusCode(400).body("field", equalTo("model")).body("detail", equalTo("no model model-x"));
  }
}

package io.peftplatform.jobs;

import static io.peftplatform.jobs.TestResources.admin;
import static io.peftplatform.jobs.TestResources.keyFor;
import static io.peftplatform.jobs.TestResources.with;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.startsWith;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

@QuarkusTest
class AuthTest {
  @Test
  void everyV1RequestNeedsAKnownKey() {
    given().get("/v1/fine-tuning/jobs").then().statusCode(401).contentType("application/problem+json")
        .header("WWW-Authenticate", "Bearer").body("detail", startsWith("missing or unknown API key"));
    with("peft-not-a-key").get("/v1/fine-tuning/jobs").then().statusCode(401);
    given().get("/v1/models").then().statusCode(401); // the gateway checks proxied paths too
    admin().get("/v1/fine-tuning/jobs").then().statusCode(200).body("object", equalTo("list"));
    given().get("/q/health/ready").then().statusCode(200);
  }

  @Test
  void clientsCannotImpersonateATenantWithInternalHeaders() {
    String key = keyFor("honest");
    with(key).header("X-Peft-Tenant", "default").header("X-Peft-Admin", "true")
        .get("/v1/api-keys").then().statusCode(403).contentType("application/problem+json");
  }

  @Test
  void onlyAdminsCreateKeys() {
    String key = keyFor("acme-keys");
    with(key).contentType("application/json").body("{\"tenant\": \"acme-keys\"}").post("/v1/api-keys").then().statusCode(403);
    admin().contentType("application/json").body("{\"tenant\": \"Not Valid\"}").post("/v1/api-keys")
        .then().statusCode(400).body("field", equalTo("tenant"));
    admin().contentType("application/json").body("{}").post("/v1/api-keys").then().statusCode(400).body("field", equalTo("tenant"));
    admin().get("/v1/api-keys").then().statusCode(200).body("tenant", hasItem("acme-keys"));
    with(key).get("/v1/fine-tuning/jobs").then().statusCode(200);
  }
}

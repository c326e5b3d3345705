package io.peftplatform.jobs;

import static io.peftplatform.jobs.TestResources.admin;
import static io.peftplatform.jobs.TestResources.keyFor;
import static io.peftplatform.jobs.TestResources.with;
import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.startsWith;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

@QuarkusTest
class AuthTest {
  @Test
  void everyV1RequestNeedsAKnownKey() {
    given().get("/v1/fine_tuning/jobs").then().statusCode(401).contentType("application/problem+json")
        .header("WWW-Authenticate", "Bearer").body("detail", startsWith("missing or unknown API key"));
    with("peft-not-a-key").get("/v1/fine_tuning/jobs").then().statusCode(401);
    given().get("/v1/models").then().statusCode(401); // the gateway checks proxied paths too
    admin().get("/v1/fine_tuning/jobs").then().statusCode(200).body("object", equalTo("list"));
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
    admin().get("/v1/api-keys").then().statusCode(200).body("data.tenant", hasItem("acme-keys"));
    with(key).get("/v1/fine_tuning/jobs").then().statusCode(200);
  }

  @Test
  void adminsListAndRevokeKeys() {
    String key = keyFor("revoked-tenant");
    with(key).get("/v1/fine_tuning/jobs").then().statusCode(200);
    String id = admin().get("/v1/api-keys?tenant=revoked-tenant").then().statusCode(200).body("object", equalTo("list"))
        .body("data", hasSize(1)).body("data[0].tenant", equalTo("revoked-tenant")).body("data[0].key", nullValue())
        .extract().path("data[0].id");
    with(key).delete("/v1/api-keys/" + id).then().statusCode(403);
    admin().delete("/v1/api-keys/" + id).then().statusCode(200).body("deleted", equalTo(true)).body("id", equalTo(id));
    with(key).get("/v1/fine_tuning/jobs").then().statusCode(401);
    admin().delete("/v1/api-keys/" + id).then().statusCode(404).contentType("application/problem+json").body("field", equalTo("id"));
    admin().get("/v1/api-keys?tenant=revoked-tenant").then().body("data", hasSize(0));
  }

  @Test
  void theLastAdminKeyCannotBeRevoked() {
    String adminId = admin().get("/v1/api-keys?tenant=default").then().statusCode(200).extract().path("data[0].id");
    admin().delete("/v1/api-keys/" + adminId).then().statusCode(409).contentType("application/problem+json");
    admin().get("/v1/fine_tuning/jobs").then().statusCode(200);
  }

  @Test
  void malformedKeyRequestsAreProblemsNamingTheField() {
    admin().contentType("application/json").body("{\"tenant\": {}}").post("/v1/api-keys").then().statusCode(400)
        .contentType("application/problem+json").body("field", equalTo("tenant"));
    admin().contentType("application/json").body("{\"tenant\": \"t\", \"admn\": true}").post("/v1/api-keys").then()
        .statusCode(400).contentType("application/problem+json").body("field", equalTo("admn"));
    admin().contentType("application/json").body("{\"tenant\": \"t\", \"admin\": \"yes please\"}").post("/v1/api-keys").then()
        .statusCode(400).contentType("application/problem+json").body("field", equalTo("admin"));
  }

  @Test
  void jsonBodiesPastTheLimitAreRefusedBeforeTheyAreRead() throws Exception {
    String big = "{\"tenant\": \"" + "x".repeat(2 << 20) + "\"}";
    admin().contentType("application/json").body(big).post("/v1/api-keys").then().statusCode(413)
        .contentType("application/problem+json").body("limit.name", equalTo("peft.limits.json-body-bytes"))
        .body("limit.value", equalTo(1 << 20));
    admin().contentType("application/json").body(big).post("/v1/merges").then().statusCode(413); // proxied paths too
    // A JSON body without a length could be endless: refused.
    java.net.http.HttpResponse<String> chunked = java.net.http.HttpClient.newHttpClient().send(
        java.net.http.HttpRequest.newBuilder(java.net.URI.create(io.restassured.RestAssured.baseURI + ":" + io.restassured.RestAssured.port
            + "/v1/api-keys")).header("Authorization", "Bearer " + TestResources.ADMIN_KEY).header("Content-Type", "application/json")
            .POST(java.net.http.HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream("{}".getBytes())))
            .build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    org.assertj.core.api.Assertions.assertThat(chunked.statusCode()).isEqualTo(411);
  }
}

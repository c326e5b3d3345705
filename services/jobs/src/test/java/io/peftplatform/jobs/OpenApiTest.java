package io.peftplatform.jobs;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.notNullValue;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

/** The one public address documents the whole API: this service's paths and those it forwards to artifacts. */
@QuarkusTest
class OpenApiTest {
  @Test
  void documentCoversJobsAndArtifactsPathsWithBearerKeys() {
    given().accept("application/json").get("/q/openapi").then().statusCode(200)
        .body("info.title", equalTo("PEFT Platform API"))
        .body("paths.'/v1/fine_tuning/jobs'.post", notNullValue())
        .body("paths.'/v1/fine_tuning/jobs/{id}/cancel'.post", notNullValue())
        .body("paths.'/v1/chat/completions'.post", notNullValue())
        .body("paths.'/v1/completions'.post", notNullValue())
        .body("paths.'/v1/files/{id}/content'.get", notNullValue())
        .body("paths.'/v1/models'.post", notNullValue())
        .body("paths.'/v1/files'.get", notNullValue())
        .body("paths.'/v1/adapters/{id}/content'.get", notNullValue())
        .body("paths.'/v1/merges'.post", notNullValue())
        .body("components.securitySchemes.apiKey.scheme", equalTo("bearer"));
    given().get("/q/swagger-ui/").then().statusCode(200);
  }
}

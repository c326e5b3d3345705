package io.peftplatform.jobs;

import io.peftplatform.testsupport.KafkaTestResource;
import io.peftplatform.testsupport.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.restassured.RestAssured;
import io.restassured.specification.RequestSpecification;

/** The real broker and database every test of this service runs against (started once), and API helpers. */
@QuarkusTestResource(KafkaTestResource.class)
@QuarkusTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "jobs"))
@QuarkusTestResource(ArtifactsServiceStub.class)
public final class TestResources {
  public static final String ADMIN_KEY = "peft-test-admin-key";

  private TestResources() {}

  public static RequestSpecification admin() {
    return RestAssured.given().header("Authorization", "Bearer " + ADMIN_KEY);
  }

  public static RequestSpecification with(String key) {
    return RestAssured.given().header("Authorization", "Bearer " + key);
  }

  /** A new tenant's key. */
  public static String keyFor(String tenant) {
    return admin().contentType("application/json").body("{\"tenant\": \"" + tenant + "\"}").post("/v1/api-keys")
        .then().statusCode(201).extract().path("key");
  }
}

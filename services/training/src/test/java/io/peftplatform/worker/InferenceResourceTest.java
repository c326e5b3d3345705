package io.peftplatform.worker;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.lessThanOrEqualTo;

import io.peftplatform.events.JobSucceeded;
import io.peftplatform.events.ObjectRef;
import io.peftplatform.events.Topics;
import io.peftplatform.storage.ObjectStore;
import io.peftplatform.testsupport.EventLog;
import io.peftplatform.testsupport.KafkaTestResource;
import io.peftplatform.testsupport.S3TestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/** POST /internal/inference: a base model, the same with a trained adapter, streamed, and the requests refused. */
@QuarkusTest
@QuarkusTestResource(KafkaTestResource.class)
@QuarkusTestResource(S3TestResource.class)
class InferenceResourceTest {
  @Inject ObjectStore store;

  @ConfigProperty(name = "peft.cache-dir") String cacheDir;

  private static RequestSpecification internal(String tenant) {
    return given().header("X-Peft-Internal-Token", "peft-test-internal-token-0123456789abcdef").header("X-Peft-Tenant", tenant)
        .contentType("application/json");
  }

  private Map<String, Object> request(List<ObjectRef> adapterFiles) {
    Map<String, Object> body = new HashMap<>();
    body.put("prompt", "3 plus 4 is");
    body.put("max_tokens", 5);
    body.put("temperature", 0);
    body.put("model_files", Fixtures.model(store));
    if (adapterFiles != null) {
      body.put("adapter_files", adapterFiles);
    }
    return body;
  }

  @Test
  void generatesWithTheBaseModelAndWithAnAdapter() {
    internal(Fixtures.TENANT).body(request(null)).post("/internal/inference").then().statusCode(200)
        .body("choices[0].index", equalTo(0))
        .body("choices[0].finish_reason", org.hamcrest.Matchers.oneOf("stop", "length"))
        .body("usage.prompt_tokens", greaterThan(0))
        .body("usage.completion_tokens", lessThanOrEqualTo(5));

    String id = Fixtures.newJobId();
    EventLog.publish(Topics.JOB_COMMANDS, Fixtures.job(store, id, Fixtures.spec("lora", 2, Fixtures.AUTO)));
    JobSucceeded done = EventLog.await(Topics.JOB_EVENTS, JobSucceeded.class, id, 1, Duration.ofSeconds(90)).get(0);
    String whole = internal(Fixtures.TENANT).body(request(done.adapterFiles())).post("/internal/inference").then().statusCode(200)
        .body("usage.completion_tokens", greaterThan(0)).extract().path("choices[0].text");

    // Streamed: pieces of the same text, each choice's end, then the usage.
    Map<String, Object> streamed = request(done.adapterFiles());
    streamed.put("stream", true);
    String lines = internal(Fixtures.TENANT).body(streamed).post("/internal/inference").then().statusCode(200)
        .contentType("application/x-ndjson").extract().asString();
    StringBuilder text = new StringBuilder();
    List<String> all = lines.lines().toList();
    for (String line : all.subList(0, all.size() - 2)) {
      text.append(io.restassured.path.json.JsonPath.from(line).getString("text"));
    }
    assertThat(text.toString()).isEqualTo(whole);
    assertThat(all.get(all.size() - 2)).contains("finish_reason");
    assertThat(all.get(all.size() - 1)).contains("\"usage\"");
  }

  @Test
  void chatNeedsMessagesOrAPromptNotBoth() {
    Map<String, Object> both = request(null);
    both.put("messages", List.of(Map.of("role", "user", "content", "hi")));
    internal(Fixtures.TENANT).body(both).post("/internal/inference").then().statusCode(400).body("field", equalTo("messages"));
    Map<String, Object> chat = request(null);
    chat.remove("prompt");
    chat.put("messages", List.of(Map.of("role", "wizard", "content", "hi")));
    internal(Fixtures.TENANT).body(chat).post("/internal/inference").then().statusCode(400).body("field", equalTo("messages[0].role"));
  }

  @Test
  void refusesCallersWithoutTheServiceToken() {
    given().contentType("application/json").header("X-Peft-Tenant", Fixtures.TENANT).body(request(null))
        .post("/internal/inference").then().statusCode(401).contentType("application/problem+json");
  }

  @Test
  void refusesAnotherTenantsFiles() {
    internal("someone-else").body(request(null)).post("/internal/inference").then().statusCode(400)
        .contentType("application/problem+json").body("field", equalTo("model_files[0]"));
  }

  /** A digest or key is part of a cache path: one that would climb out of the cache is refused, and nothing is made. */
  @Test
  void refusesReferencesThatWouldMakePathsOutsideTheCache() throws Exception {
    // The cache made <root>/<sha[0:2]>/<sha>/<name>: with sha "../escaped-N" that is two levels above the root.
    String climb = "../escaped-" + System.nanoTime();
    Path root = Path.of(cacheDir).toAbsolutePath().normalize();
    Path outside = root.resolve("..").resolve(climb).normalize();
    List<ObjectRef> model = Fixtures.model(store);
    for (ObjectRef evil : List.of(
        new ObjectRef(model.get(0).key(), climb, 10),
        new ObjectRef(model.get(0).key(), "AB".repeat(32), 10),
        new ObjectRef("tenants/" + Fixtures.TENANT + "/models/../../other/models/m/config.json", "a".repeat(64), 10),
        new ObjectRef("tenants/" + Fixtures.TENANT + "/models/m/..", "a".repeat(64), 10),
        new ObjectRef("tenants/" + Fixtures.TENANT + "//config.json", "a".repeat(64), 10))) {
      internal(Fixtures.TENANT).body(request(List.of(evil))).post("/internal/inference").then().statusCode(400)
          .contentType("application/problem+json").body("field", equalTo("adapter_files[0]"));
      Map<String, Object> asModel = request(null);
      asModel.put("model_files", List.of(evil));
      internal(Fixtures.TENANT).body(asModel).post("/internal/inference").then().statusCode(400)
          .body("field", equalTo("model_files[0]"));
    }
    assertThat(outside.startsWith(root)).isFalse();
    assertThat(Files.exists(outside)).as("a directory made outside the cache: %s", outside).isFalse();
  }

  @Test
  void refusesFieldsItDoesNotKnow() {
    Map<String, Object> extra = request(null);
    extra.put("cache_dir", "/etc");
    internal(Fixtures.TENANT).body(extra).post("/internal/inference").then().statusCode(400)
        .contentType("application/problem+json").body("field", equalTo("cache_dir"));
  }

  @Test
  void namesTheFieldOfABadSetting() {
    Map<String, Object> tooLong = request(null);
    tooLong.put("max_tokens", 100_000);
    internal(Fixtures.TENANT).body(tooLong).post("/internal/inference").then().statusCode(400)
        .contentType("application/problem+json").body("field", equalTo("max_tokens"));
    Map<String, Object> hot = request(null);
    hot.put("temperature", -1);
    internal(Fixtures.TENANT).body(hot).post("/internal/inference").then().statusCode(400)
        .body("field", equalTo("temperature")).body("detail", containsString("temperature"));
  }
}

package io.peftplatform.artifacts;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.startsWith;

import com.sun.net.httpserver.HttpServer;
import io.peftplatform.events.ArtifactDeleted;
import io.peftplatform.events.ModelChanged;
import io.peftplatform.events.Topics;
import io.peftplatform.testsupport.EventLog;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.specification.RequestSpecification;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.awaitility.Awaitility;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@QuarkusTest
class ModelResourceTest {
  @TempDir Path dir;

  @ConfigProperty(name = "peft.hf.endpoint") String hfEndpoint;

  static RequestSpecification as(String tenant) {
    return given().config(RestAssuredSetup.CONFIG).header("X-Peft-Internal-Token", TestResources.TOKEN).header("X-Peft-Tenant", tenant);
  }

  static RequestSpecification upload(String tenant, Path model, String name) throws IOException {
    RequestSpecification r = as(tenant).multiPart("name", name);
    try (Stream<Path> files = Files.list(model)) {
      for (Path f : files.sorted().toList()) {
        r = r.multiPart("file", f.toFile());
      }
    }
    return r;
  }

  static JsonPath awaitStatus(String tenant, String id, String status) {
    Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> status.equals(as(tenant).get("/v1/models/" + id).jsonPath().getString("status")));
    return as(tenant).get("/v1/models/" + id).jsonPath();
  }

  @Test
  void uploadedModelIsValidatedStoredAndAnnounced() throws IOException {
    Path model = TinyModel.write(dir.resolve("tiny"));
    String id = upload("acme", model, "tiny").when().post("/v1/models")
        .then().statusCode(201).body("id", startsWith("model-"))
        .body("status", equalTo("validating")).body("name", equalTo("tiny")).extract().path("id");
    JsonPath ready = awaitStatus("acme", id, "ready");
    assertThat(ready.getString("architecture")).isEqualTo("LlamaForCausalLM");
    assertThat(ready.getLong("parameters")).isEqualTo(TinyModel.CONFIG.parameterCount());
    assertThat(ready.getList("files.name")).containsExactly("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json");
    assertThat(ready.getString("files[1].sha256")).hasSize(64);

    List<ModelChanged> events = EventLog.await(Topics.ARTIFACT_EVENTS, ModelChanged.class, id, 2, Duration.ofSeconds(30));
    assertThat(events).extracting(ModelChanged::status).containsExactly("validating", "ready");
    assertThat(events.get(1).files()).hasSize(4);
    assertThat(events.get(1).tenant()).isEqualTo("acme");

    as("acme").get("/v1/models").then().statusCode(200).body("object", equalTo("list")).body("data.id", org.hamcrest.Matchers.hasItem(id));
    as("other").get("/v1/models/" + id).then().statusCode(404).contentType("application/problem+json");
    as("other").delete("/v1/models/" + id).then().statusCode(404);

    as("acme").delete("/v1/models/" + id).then().statusCode(200).body("deleted", equalTo(true));
    as("acme").get("/v1/models/" + id).then().statusCode(404);
    assertThat(EventLog.await(Topics.ARTIFACT_EVENTS, ArtifactDeleted.class, id, 1, Duration.ofSeconds(30)).get(0).kind()).isEqualTo("model");
  }

  @Test
  void invalidModelsFailWithTheReason() throws IOException {
    Path gpt2 = TinyModel.write(dir.resolve("gpt2"), c -> {
      c.putArray("architectures").add("GPT2LMHeadModel");
      return c;
    });
    String id = upload("acme", gpt2, "gpt2").post("/v1/models").then().statusCode(201).extract().path("id");
    JsonPath failed = awaitStatus("acme", id, "failed");
    assertThat(failed.getString("error.code")).isEqualTo("unsupported_architecture");
    assertThat(failed.getString("error.message")).contains("GPT2LMHeadModel is not supported; supported: LlamaForCausalLM");

    Path wrong = TinyModel.write(dir.resolve("wrong"), c -> c.put("hidden_size", 48));
    String id2 = upload("acme", wrong, "wrong").post("/v1/models").then().statusCode(201).extract().path("id");
    assertThat(awaitStatus("acme", id2, "failed").getString("error.code")).isEqualTo("invalid_weights");

    Path noTokenizer = TinyModel.write(dir.resolve("notok"));
    Files.delete(noTokenizer.resolve("tokenizer.json"));
    String id3 = upload("acme", noTokenizer, "notok").post("/v1/models").then().statusCode(201).extract().path("id");
    assertThat(awaitStatus("acme", id3, "failed").getString("error.message")).contains("no tokenizer.json");
  }

  @Test
  void badRequestsAreProblems() throws IOException {
    Path evil = dir.resolve("evil.sh");
    Files.writeString(evil, "rm -rf /");
    as("acme").multiPart("file", evil.toFile()).post("/v1/models")
        .then().statusCode(400).contentType("application/problem+json").body("field", equalTo("file"))
        .body("detail", startsWith("'evil.sh' is not a model file"));
    as("acme").contentType("application/json").body("{\"source\": \"ftp://x\"}").post("/v1/models")
        .then().statusCode(400).body("field", equalTo("source"));
    as("acme").contentType("application/json").body("{}").post("/v1/models")
        .then().statusCode(400).contentType("application/problem+json").body("field", equalTo("source"));
    as("acme").contentType("application/json").body("{\"source\": ").post("/v1/models")
        .then().statusCode(400).contentType("application/problem+json");
    given().get("/v1/models").then().statusCode(401).contentType("application/problem+json");
    given().header("X-Peft-Internal-Token", "wrong").header("X-Peft-Tenant", "acme").get("/v1/models").then().statusCode(401);
    as("acme").get("/v1/models?limit=0").then().statusCode(400).body("field", equalTo("limit"));
    as("acme").get("/v1/models?after=model-nope").then().statusCode(400).body("field", equalTo("after"));
  }

  @Test
  void modelsUnpackFromATarGzArchive() throws IOException {
    Path model = TinyModel.write(dir.resolve("packed"));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new GzipCompressorOutputStream(bytes)); Stream<Path> files = Files.list(model)) {
      for (Path f : files.toList()) {
        TarArchiveEntry e = new TarArchiveEntry("tiny/" + f.getFileName());
        e.setSize(Files.size(f));
        tar.putArchiveEntry(e);
        Files.copy(f, tar);
        tar.closeArchiveEntry();
      }
    }
    Path archive = dir.resolve("tiny.tar.gz");
    Files.write(archive, bytes.toByteArray());
    String id = as("acme").multiPart("archive", archive.toFile()).post("/v1/models").then().statusCode(201).extract().path("id");
    assertThat(awaitStatus("acme", id, "ready").getList("files")).hasSize(4);
  }

  /** hf:// imports use the Hub's file list and resolve URLs: a local HTTP server serves the same paths. */
  @Test
  void importsFromTheHubByItsApi() throws Exception {
    Path model = TinyModel.write(dir.resolve("hub"));
    int port = Integer.parseInt(hfEndpoint.substring(hfEndpoint.lastIndexOf(':') + 1));
    HttpServer hub = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
    hub.createContext("/api/models/acme-org/tiny-llama/revision/v1", ex -> respond(ex.getResponseBody(), ex, (
        "{\"siblings\": [{\"rfilename\": \"config.json\"}, {\"rfilename\": \"model.safetensors\"}, {\"rfilename\": \"README.md\"},"
            + " {\"rfilename\": \"tokenizer.json\"}, {\"rfilename\": \"tokenizer_config.json\"}]}").getBytes()));
    hub.createContext("/acme-org/tiny-llama/resolve/v1/", ex -> {
      String name = ex.getRequestURI().getPath().substring("/acme-org/tiny-llama/resolve/v1/".length());
      respond(ex.getResponseBody(), ex, Files.readAllBytes(model.resolve(name)));
    });
    hub.start();
    try {
      String id = as("acme").contentType("application/json").body("{\"source\": \"hf://acme-org/tiny-llama@v1\", \"name\": \"hub\"}")
          .post("/v1/models").then().statusCode(201).body("source", equalTo("hf://acme-org/tiny-llama@v1")).extract().path("id");
      assertThat(awaitStatus("acme", id, "ready").getList("files.name"))
          .containsExactly("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json");
      String missing = as("acme").contentType("application/json").body("{\"source\": \"hf://acme-org/absent\"}")
          .post("/v1/models").then().statusCode(201).extract().path("id");
      JsonPath failed = awaitStatus("acme", missing, "failed");
      assertThat(failed.getString("error.code")).isEqualTo("import_failed");
      assertThat(failed.getString("error.message")).contains("answered 404");
    } finally {
      hub.stop(0);
    }
  }

  private static void respond(OutputStream out, com.sun.net.httpserver.HttpExchange ex, byte[] body) throws IOException {
    ex.sendResponseHeaders(200, body.length);
    out.write(body);
    out.close();
  }

  @Test
  void listsPageNewestFirst() throws IOException {
    Path model = TinyModel.write(dir.resolve("paged"));
    for (int i = 0; i < 3; i++) {
      upload("pager", model, "m" + i).post("/v1/models").then().statusCode(201);
    }
    JsonPath first = as("pager").get("/v1/models?limit=2").jsonPath();
    assertThat(first.getList("data.name")).containsExactly("m2", "m1");
    assertThat(first.getBoolean("has_more")).isTrue();
    as("pager").get("/v1/models?limit=2&after=" + first.getString("last_id")).then()
        .body("data", hasSize(1)).body("data[0].name", equalTo("m0")).body("has_more", equalTo(false));
  }
}

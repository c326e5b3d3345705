package io.peftplatform.artifacts;

import static io.peftplatform.artifacts.ModelResourceTest.as;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;

import io.peftplatform.events.DatasetChanged;
import io.peftplatform.events.Topics;
import io.peftplatform.testsupport.EventLog;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@QuarkusTest
class DatasetResourceTest {
  @TempDir Path dir;

  @Test
  void validJsonlIsStoredWithCountsAndAPreview() throws Exception {
    StringBuilder jsonl = new StringBuilder();
    for (int i = 0; i < 12; i++) {
      jsonl.append("{\"prompt\": \"Q").append(i).append("\", \"completion\": \" A").append(i).append("\"}\n");
    }
    Path file = dir.resolve("train.jsonl");
    Files.writeString(file, jsonl);
    JsonPath d = as("acme").multiPart("file", file.toFile()).post("/v1/files").then().statusCode(201)
        .body("object", equalTo("file")).body("status", equalTo("processed")).body("format", equalTo("prompt_completion"))
        .body("rows", equalTo(12)).body("filename", equalTo("train.jsonl")).body("purpose", equalTo("fine-tune"))
        .body("bytes", equalTo(jsonl.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length)).body("preview", hasSize(5))
        .body("preview[0].prompt", equalTo("Q0")).extract().jsonPath();
    assertThat(d.getLong("token_estimate")).isPositive();
    assertThat(d.getString("sha256")).hasSize(64);
    String id = d.getString("id");
    assertThat(id).startsWith("file-");

    DatasetChanged event = EventLog.await(Topics.ARTIFACT_EVENTS, DatasetChanged.class, id, 1, Duration.ofSeconds(30)).get(0);
    assertThat(event.status()).isEqualTo("ready");
    assertThat(event.file().sha256()).isEqualTo(d.getString("sha256"));
    assertThat(event.rows()).isEqualTo(12);

    as("acme").get("/v1/files/" + id).then().statusCode(200).body("preview", hasSize(5));
    assertThat(as("acme").get("/v1/files/" + id + "/content").then().statusCode(200).contentType("application/jsonl").extract().asString())
        .isEqualTo(jsonl.toString());
    as("stranger").get("/v1/files/" + id + "/content").then().statusCode(404);
    // OpenAI's purposes other than fine-tune are refused, in both error shapes at once.
    as("acme").multiPart("file", file.toFile()).multiPart("purpose", "assistants").post("/v1/files").then().statusCode(400)
        .contentType("application/problem+json").body("field", equalTo("purpose"))
        .body("error.param", equalTo("purpose")).body("error.type", equalTo("invalid_request_error"))
        .body("error.message", org.hamcrest.Matchers.containsString("fine-tune"));
    as("stranger").get("/v1/files/" + id).then().statusCode(404);
    as("acme").delete("/v1/files/" + id).then().statusCode(200);
    as("acme").get("/v1/files/" + id).then().statusCode(404);
  }

  @Test
  void rawBodiesUploadToo() {
    as("acme").contentType("application/jsonl").body("{\"text\": \"hello\"}\n\n{\"text\": \"world\"}\n")
        .post("/v1/files?name=raw").then().statusCode(201).body("format", equalTo("text")).body("rows", equalTo(2))
        .body("filename", equalTo("raw"));
  }

  @Test
  void preferencePairsUploadInBothForms() {
    as("acme").contentType("application/jsonl").body("{\"input\": {\"messages\": [{\"role\": \"user\", \"content\": \"2 + 2 =\"}]},"
        + " \"preferred_output\": [{\"role\": \"assistant\", \"content\": \"4\"}],"
        + " \"non_preferred_output\": [{\"role\": \"assistant\", \"content\": \"5\"}]}\n")
        .post("/v1/files?name=pairs").then().statusCode(201).body("format", equalTo("preference")).body("rows", equalTo(1));
    as("acme").contentType("application/jsonl").body("{\"prompt\": \"2 + 2 =\", \"chosen\": \" 4\", \"rejected\": \" 5\"}\n")
        .post("/v1/files?name=plain-pairs").then().statusCode(201).body("format", equalTo("prompt_chosen_rejected"));
    as("acme").contentType("application/jsonl").body("{\"prompt\": \"2 + 2 =\", \"chosen\": \" 4\"}\n")
        .post("/v1/files?name=half-pair").then().statusCode(400).body("errors[0].field", equalTo("rejected"));
  }

  @Test
  void badLinesAreReportedWithTheirNumbersAndNothingIsStored() {
    String body = "{\"text\": \"fine\"}\n{\"text\": 3}\nnot json\n{\"text\": \"fine\"}\n{\"prompt\": \"p\", \"completion\": \"c\"}\n";
    as("acme").contentType("application/jsonl").body(body).post("/v1/files?name=bad")
        .then().statusCode(400).contentType("application/problem+json")
        .body("field", equalTo("file"))
        .body("detail", equalTo("3 of 5 lines are invalid"))
        .body("errors", hasSize(3))
        .body("errors[0].line", equalTo(2)).body("errors[0].field", equalTo("text"))
        .body("errors[0].message", equalTo("must be a string, got a number"))
        .body("errors[1].line", equalTo(3))
        .body("errors[2].line", equalTo(5)).body("errors[2].message", equalTo("is a prompt/completion record but line 1 is a text record; use one form per file"));
    as("acme").get("/v1/files?limit=100").then().body("data.filename", org.hamcrest.Matchers.not(org.hamcrest.Matchers.hasItem("bad")));
    as("acme").contentType("application/jsonl").body("\n\n").post("/v1/files").then().statusCode(400).body("detail", equalTo("the dataset has no records"));
    as("acme").contentType("application/jsonl").body(new byte[] {'{', (byte) 0xff, '}'}).post("/v1/files").then().statusCode(400)
        .body("detail", equalTo("line 1 is not valid UTF-8"));
    as("acme").contentType("image/png").body(new byte[] {1}).post("/v1/files").then().statusCode(415).contentType("application/problem+json");
  }
}

package io.peftplatform.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client's own logic (errors, event streams, archives) against an HTTP server with scripted answers. */
class PeftClientTest {
  @TempDir Path tmp;

  @Test
  void sendsTheKeyAndTurnsAProblemIntoOneLineNamingTheField() throws Exception {
    try (MockWebServer server = started(); PeftClient client = new PeftClient(server.url("/").toString(), "k-123")) {
      server.enqueue(new MockResponse.Builder().code(400).setHeader("Content-Type", "application/problem+json")
          .body("{\"type\":\"about:blank\",\"title\":\"Bad Request\",\"status\":400,"
              + "\"detail\":\"must be one of lora, dora, nola, kronecker; got 'qlora'\",\"field\":\"method.type\"}").build());

      assertThatThrownBy(() -> client.createJob(PeftClient.JSON.readTree("{\"model\":\"m\"}")))
          .isInstanceOf(PeftApiException.class)
          .hasMessage("HTTP 400: must be one of lora, dora, nola, kronecker; got 'qlora' (field: method.type)")
          .satisfies(e -> assertThat(((PeftApiException) e).field()).isEqualTo("method.type"));
      RecordedRequest sent = server.takeRequest();
      assertThat(sent.getHeaders().get("Authorization")).isEqualTo("Bearer k-123");
      assertThat(sent.getTarget()).isEqualTo("/v1/fine_tuning/jobs");
    }
  }

  @Test
  void anUnreachableApiIsStatusZeroWithTheAddress() {
    try (PeftClient client = new PeftClient("http://127.0.0.1:1", null)) {
      assertThatThrownBy(() -> client.getJob("ftjob-1")).isInstanceOf(PeftApiException.class)
          .hasMessageContaining("cannot reach http://127.0.0.1:1/")
          .satisfies(e -> assertThat(((PeftApiException) e).status()).isZero());
    }
  }

  @Test
  void followsAJobsEventStreamUntilItCloses() throws Exception {
    try (MockWebServer server = started(); PeftClient client = new PeftClient(server.url("/").toString(), "k")) {
      server.enqueue(new MockResponse.Builder().body("{\"id\":\"ftjob-1\",\"status\":\"running\"}").build());
      server.enqueue(new MockResponse.Builder().setHeader("Content-Type", "text/event-stream")
          .body("data: {\"type\":\"job.started\"}\n\ndata: {\"type\":\"job.succeeded\"}\n\n").build());
      server.enqueue(new MockResponse.Builder().body("{\"id\":\"ftjob-1\",\"status\":\"succeeded\"}").build());

      List<String> types = new ArrayList<>();
      JsonNode end = client.followJob("ftjob-1", e -> types.add(e.path("type").asText()), Duration.ofSeconds(10));

      assertThat(types).containsExactly("job.started", "job.succeeded");
      assertThat(end.path("status").asText()).isEqualTo("succeeded");
      server.takeRequest();
      assertThat(server.takeRequest().getHeaders().get("Accept")).isEqualTo("text/event-stream");
    }
  }

  @Test
  void unpacksAnAdapterArchiveAndRefusesEntriesOutsideTheDirectory() throws Exception {
    byte[] good = tarGz("adapter-1/adapter_config.json", "{}");
    List<Path> files = TarGz.extract(new ByteArrayInputStream(good), tmp.resolve("a"), "adapter-1");
    assertThat(files).containsExactly(tmp.resolve("a").toAbsolutePath().resolve("adapter_config.json"));
    assertThat(Files.readString(files.get(0))).isEqualTo("{}");

    byte[] evil = tarGz("../escaped.txt", "x");
    assertThatThrownBy(() -> TarGz.extract(new ByteArrayInputStream(evil), tmp.resolve("b"), "adapter-1"))
        .hasMessageContaining("points outside");
    assertThat(tmp.resolve("escaped.txt")).doesNotExist();
  }

  private static MockWebServer started() throws Exception {
    MockWebServer server = new MockWebServer();
    server.start();
    return server;
  }

  private static byte[] tarGz(String name, String content) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new GzipCompressorOutputStream(bytes))) {
      byte[] data = content.getBytes(StandardCharsets.UTF_8);
      TarArchiveEntry e = new TarArchiveEntry(name, true);
      e.setSize(data.length);
      tar.putArchiveEntry(e);
      tar.write(data);
      tar.closeArchiveEntry();
    }
    return bytes.toByteArray();
  }
}

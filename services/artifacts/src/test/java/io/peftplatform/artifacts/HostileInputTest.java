package io.peftplatform.artifacts;

import static io.peftplatform.artifacts.ModelResourceTest.as;
import static io.peftplatform.artifacts.ModelResourceTest.awaitStatus;
import static io.peftplatform.artifacts.ModelResourceTest.upload;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.peftplatform.storage.ObjectStore;
import io.peftplatform.storage.StorageConfig;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a hostile tenant sends the registry: imports aimed at another tenant's objects or at the
 * platform's own network, archives and files past the limits, endless lines, unknown fields. Each is
 * refused with a problem naming the field (or the model fails with the reason), and nothing is reached
 * or stored.
 */
@QuarkusTest
class HostileInputTest {
  @TempDir Path dir;

  @ConfigProperty(name = "peft.hf.endpoint") String hfEndpoint;
  @ConfigProperty(name = "peft.storage.endpoint") String s3Endpoint;
  @ConfigProperty(name = "peft.storage.access-key") String s3Key;
  @ConfigProperty(name = "peft.storage.secret-key") String s3Secret;

  private static io.restassured.specification.RequestSpecification json(String tenant, String body) {
    return as(tenant).contentType("application/json").body(body);
  }

  @Test
  void s3ImportsCannotReadAnotherTenantsObjects() throws IOException {
    String victim = upload("s3-victim", TinyModel.write(dir.resolve("private")), "private").post("/v1/models")
        .then().statusCode(201).extract().path("id");
    awaitStatus("s3-victim", victim, "ready");
    for (String source : List.of("s3://peft/tenants/s3-victim/models/" + victim + "/", "s3://peft/tenants/s3-victim/models/" + victim,
        "s3://peft/tenants/", "s3://peft/tenants", "s3://peft/tenants/s3-thief/../s3-victim/models/" + victim + "/")) {
      json("s3-thief", "{\"source\": \"" + source + "\"}").post("/v1/models").then().statusCode(400)
          .contentType("application/problem+json").body("field", equalTo("source"));
    }
    // The platform's bucket outside the tenants' prefixes, and other buckets, only as the operator allows.
    json("s3-thief", "{\"source\": \"s3://peft/\"}").post("/v1/models").then().statusCode(400)
        .body("detail", containsString("peft.imports.s3-allowed"));
    json("s3-thief", "{\"source\": \"s3://someone-elses-bucket/models/\"}").post("/v1/models").then().statusCode(400)
        .body("detail", containsString("not in a bucket imports may read"));
    as("s3-thief").get("/v1/models").then().body("data", org.hamcrest.Matchers.empty());

    // One's own objects, and an allowed bucket's allowed prefix, import.
    String own = json("s3-victim", "{\"source\": \"s3://peft/tenants/s3-victim/models/" + victim + "/\"}").post("/v1/models")
        .then().statusCode(201).extract().path("id");
    assertThat(awaitStatus("s3-victim", own, "ready").getList("files")).hasSize(4);
    ObjectStore shared = ObjectStore.withBucket(new StorageConfig(s3Endpoint, s3Key, s3Secret, "shared-models"));
    try (Stream<Path> files = Files.list(TinyModel.write(dir.resolve("shared")))) {
      files.forEach(f -> shared.put("base/tiny/" + f.getFileName(), f));
    }
    String sharedModel = json("s3-thief", "{\"source\": \"s3://shared-models/base/tiny\"}").post("/v1/models")
        .then().statusCode(201).extract().path("id");
    awaitStatus("s3-thief", sharedModel, "ready");
    json("s3-thief", "{\"source\": \"s3://shared-models/private/tiny\"}").post("/v1/models").then().statusCode(400);
  }

  /** A listener on loopback that counts the connections it gets (none, if imports hold the line). */
  private static final class Listener implements AutoCloseable {
    final ServerSocket socket = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
    final AtomicInteger connections = new AtomicInteger();
    final Thread acceptor = new Thread(() -> {
      while (!socket.isClosed()) {
        try (var s = socket.accept()) {
          connections.incrementAndGet();
        } catch (IOException e) {
          return;
        }
      }
    });

    Listener() throws IOException {
      acceptor.setDaemon(true);
      acceptor.start();
    }

    int port() {
      return socket.getLocalPort();
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  @Test
  void httpsImportsNeverReachPrivateAddresses() throws Exception {
    try (Listener inside = new Listener()) {
      int p = inside.port();
      for (String url : List.of("https://127.0.0.1:" + p + "/m.tar", "https://[::1]:" + p + "/m.tar", "https://10.0.0.1/m.tar",
          "https://169.254.169.254/latest/meta-data/", "https://0.0.0.0:" + p + "/m.tar", "https://[::ffff:127.0.0.1]:" + p + "/m.tar",
          "https://2130706433:" + p + "/m.tar", "http://example.com/m.tar", "ftp://example.com/m.tar", "file:///etc/passwd")) {
        json("ssrf", "{\"source\": \"" + url + "\"}").post("/v1/models").then().statusCode(400)
            .contentType("application/problem+json").body("field", equalTo("source"));
      }
      // A name is resolved when connecting, and refused for what it resolves to.
      String id = json("ssrf", "{\"source\": \"https://localhost:" + p + "/m.tar\"}").post("/v1/models")
          .then().statusCode(201).extract().path("id");
      JsonPath failed = awaitStatus("ssrf", id, "failed");
      assertThat(failed.getString("error.code")).isEqualTo("import_refused");
      assertThat(failed.getString("error.message")).contains("localhost resolves to 127.0.0.1, a loopback address");
      assertThat(inside.connections.get()).as("connections that reached the private listener").isZero();
    }
  }

  private static void respond(HttpExchange ex, int status, byte[] body) throws IOException {
    ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(body);
    }
  }

  /**
   * The Hub answers the file list and redirects the weights elsewhere: the token goes to the Hub's own
   * origin only, a redirect to a private address is refused, and a file past the size limit stops the
   * download.
   */
  @Test
  void theHubTokenStaysWithTheHubAndRedirectsAreCheckedHopByHop() throws Exception {
    Path model = TinyModel.write(dir.resolve("hub"));
    int hubPort = Integer.parseInt(hfEndpoint.substring(hfEndpoint.lastIndexOf(':') + 1));
    Map<String, String> authorizationSeen = new ConcurrentHashMap<>();
    // The CDN stands on 127.0.0.2, a host the test configuration trusts (peft.imports.trusted-hosts).
    HttpServer cdn = HttpServer.create(new InetSocketAddress("127.0.0.2", 0), 0);
    cdn.createContext("/", ex -> {
      authorizationSeen.put("cdn " + ex.getRequestURI().getPath(), String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
      String name = ex.getRequestURI().getPath().substring(ex.getRequestURI().getPath().lastIndexOf('/') + 1);
      respond(ex, 200, Files.readAllBytes(model.resolve(name)));
    });
    cdn.start();
    try (Listener inside = new Listener()) {
      HttpServer hub = HttpServer.create(new InetSocketAddress("127.0.0.1", hubPort), 0);
      hub.createContext("/api/models/", ex -> {
        authorizationSeen.put("hub listing", String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
        String files = ex.getRequestURI().getPath().contains("/huge/") ? "[{\"rfilename\": \"model.safetensors\"}]"
            : "[{\"rfilename\": \"config.json\"}, {\"rfilename\": \"model.safetensors\"}, {\"rfilename\": \"tokenizer.json\"},"
                + " {\"rfilename\": \"tokenizer_config.json\"}, {\"rfilename\": \"../../etc/passwd\"}]";
        respond(ex, 200, ("{\"siblings\": " + files + "}").getBytes());
      });
      hub.createContext("/acme/cdn-redirect/resolve/main/", ex -> {
        String name = ex.getRequestURI().getPath().substring(ex.getRequestURI().getPath().lastIndexOf('/') + 1);
        authorizationSeen.put("hub " + name, String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
        ex.getResponseHeaders().add("Location", "http://127.0.0.2:" + cdn.getAddress().getPort() + "/lfs/" + name);
        respond(ex, 302, new byte[0]);
      });
      hub.createContext("/acme/inside-redirect/resolve/main/", ex -> {
        ex.getResponseHeaders().add("Location", "https://localhost:" + inside.port() + "/steal");
        respond(ex, 302, new byte[0]);
      });
      hub.createContext("/acme/huge/resolve/main/", ex -> {
        ex.sendResponseHeaders(200, 0); // chunked: the size shows only as the bytes come
        byte[] chunk = new byte[1 << 20];
        try (OutputStream out = ex.getResponseBody()) {
          for (int i = 0; i < 64; i++) {
            out.write(chunk);
          }
        } catch (IOException closedByTheImporter) {
          // expected: it stops reading at the limit
        }
      });
      hub.start();
      try {
        String ok = json("hub-user", "{\"source\": \"hf://acme/cdn-redirect\"}").post("/v1/models").then().statusCode(201).extract().path("id");
        assertThat(awaitStatus("hub-user", ok, "ready").getList("files.name"))
            .containsExactly("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json");
        assertThat(authorizationSeen.get("hub listing")).isEqualTo("Bearer hf_test_token");
        assertThat(authorizationSeen.get("hub model.safetensors")).isEqualTo("Bearer hf_test_token");
        assertThat(authorizationSeen.get("cdn /lfs/model.safetensors")).as("token sent off the Hub's origin").isEqualTo("null");

        String redirected = json("hub-user", "{\"source\": \"hf://acme/inside-redirect\"}").post("/v1/models").then().statusCode(201)
            .extract().path("id");
        JsonPath refused = awaitStatus("hub-user", redirected, "failed");
        assertThat(refused.getString("error.code")).isEqualTo("import_refused");
        assertThat(refused.getString("error.message")).contains("localhost resolves to 127.0.0.1, a loopback address");
        assertThat(inside.connections.get()).isZero();

        String huge = json("hub-user", "{\"source\": \"hf://acme/huge\"}").post("/v1/models").then().statusCode(201).extract().path("id");
        JsonPath tooLarge = awaitStatus("hub-user", huge, "failed");
        assertThat(tooLarge.getString("error.code")).isEqualTo("import_refused");
        assertThat(tooLarge.getString("error.message")).contains("larger than the limit of 25165824 bytes (peft.limits.model-bytes)");
      } finally {
        hub.stop(0);
      }
    } finally {
      cdn.stop(0);
    }
  }

  private Path tarGz(String name, int entries, long zeroBytes) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new GzipCompressorOutputStream(bytes))) {
      tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
      for (int i = 0; i < entries; i++) {
        TarArchiveEntry e = new TarArchiveEntry("m/file-" + i + ".txt");
        e.setSize(0);
        tar.putArchiveEntry(e);
        tar.closeArchiveEntry();
      }
      if (zeroBytes > 0) {
        TarArchiveEntry e = new TarArchiveEntry("m/model.safetensors");
        e.setSize(zeroBytes);
        tar.putArchiveEntry(e);
        byte[] zeros = new byte[1 << 20];
        for (long left = zeroBytes; left > 0; left -= zeros.length) {
          tar.write(zeros, 0, (int) Math.min(zeros.length, left));
        }
        tar.closeArchiveEntry();
      }
    }
    Path archive = dir.resolve(name);
    Files.write(archive, bytes.toByteArray());
    return archive;
  }

  @Test
  void archivesPastTheLimitsAreRefusedAndLeaveNothing() throws IOException {
    Path bomb = tarGz("bomb.tar.gz", 0, 1L << 30); // 1 GiB of zeros in about a megabyte
    assertThat(Files.size(bomb)).isLessThan(2L << 20);
    as("unpacker").multiPart("archive", bomb.toFile()).post("/v1/models").then().statusCode(413)
        .contentType("application/problem+json").body("field", equalTo("archive"))
        .body("limit.name", equalTo("peft.limits.archive-ratio")).body("detail", containsString("times its size"));
    as("unpacker").multiPart("archive", tarGz("many.tar.gz", 41, 0).toFile()).post("/v1/models").then().statusCode(413)
        .body("limit.name", equalTo("peft.limits.archive-entries")).body("limit.value", equalTo(40));
    Path junk = Files.writeString(dir.resolve("junk.tar"), "this is not a tar file at all");
    as("unpacker").multiPart("archive", junk.toFile()).post("/v1/models").then().statusCode(400).body("field", equalTo("archive"));
    as("unpacker").get("/v1/models").then().body("data", org.hamcrest.Matchers.empty());

    Path big = dir.resolve("big");
    Files.createDirectories(big);
    try (var out = Files.newOutputStream(big.resolve("model.safetensors"))) {
      out.write(new byte[25 << 20]);
    }
    as("unpacker").multiPart("file", big.resolve("model.safetensors").toFile()).post("/v1/models").then().statusCode(413)
        .body("field", equalTo("file")).body("limit.name", equalTo("peft.limits.model-bytes"));
  }

  @Test
  void datasetsWithAnEndlessLineOrPastTheSizeLimitAreRefused() {
    String longLine = "{\"text\": \"" + "x".repeat(70_000) + "\"}\n";
    as("lines").contentType("application/jsonl").body("{\"text\": \"ok\"}\n" + longLine).post("/v1/files")
        .then().statusCode(413).contentType("application/problem+json").body("field", equalTo("file"))
        .body("detail", equalTo("line 2 is longer than 65536 characters")).body("limit.name", equalTo("peft.limits.dataset-line-chars"));
    StringBuilder many = new StringBuilder();
    while (many.length() < (5 << 20)) {
      many.append("{\"text\": \"").append("y".repeat(1000)).append("\"}\n");
    }
    as("lines").contentType("application/jsonl").body(many.toString()).post("/v1/files")
        .then().statusCode(413).body("limit.name", equalTo("peft.limits.dataset-bytes")).body("limit.value", equalTo(4 << 20));
    as("lines").get("/v1/files").then().body("data", org.hamcrest.Matchers.empty());
  }

  @Test
  void unknownFieldsAndOversizedValuesAreRefusedNamingTheField() {
    json("fields", "{\"source\": \"hf://a/b\", \"revision\": \"main\"}").post("/v1/models").then().statusCode(400)
        .contentType("application/problem+json").body("field", equalTo("revision"));
    json("fields", "{\"source\": \"hf://a/" + "b".repeat(1100) + "\"}").post("/v1/models").then().statusCode(400)
        .body("field", equalTo("source"));
    json("fields", "{\"source\": \"hf://a/b\", \"name\": \"" + "n".repeat(300) + "\"}").post("/v1/models").then().statusCode(400)
        .body("field", equalTo("name"));
    json("fields", "{\"model\": \"model-x\", \"adapters\": [\"adapter-y\"], \"wieght\": 1}").post("/v1/merges").then().statusCode(400)
        .body("field", equalTo("wieght"));
    json("fields", "{\"model\": \"model-x\", \"adapters\": [{\"id\": \"adapter-y\", \"wait\": 1}]}").post("/v1/merges").then()
        .statusCode(400).body("field", equalTo("adapters[0].wait"));
    json("fields", "{\"model\": \"model-x\", \"adapters\": [\"adapter-y\"], \"output\": {\"type\": \"adapter\", \"rnak\": 8}}")
        .post("/v1/merges").then().statusCode(400).body("field", equalTo("output.rnak"));
  }

  @Test
  void pageCursorsAreTheTenantsOwn() throws IOException {
    String theirs = upload("cursor-owner", TinyModel.write(dir.resolve("c")), "c").post("/v1/models").then().statusCode(201)
        .extract().path("id");
    as("cursor-owner").get("/v1/models?after=" + theirs).then().statusCode(200);
    as("cursor-other").get("/v1/models?after=" + theirs).then().statusCode(400).body("field", equalTo("after"))
        .body("detail", equalTo("no model " + theirs + " to page after"));
  }

  @Test
  void aTenantHasAtMostAFewModelsValidatingAtOnce() throws Exception {
    int hubPort = Integer.parseInt(hfEndpoint.substring(hfEndpoint.lastIndexOf(':') + 1));
    List<HttpExchange> held = new CopyOnWriteArrayList<>();
    HttpServer slowHub = HttpServer.create(new InetSocketAddress("127.0.0.1", hubPort), 0);
    slowHub.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
    slowHub.createContext("/", ex -> {
      held.add(ex);
      try {
        Thread.sleep(60_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    slowHub.start();
    try {
      for (int i = 0; i < 4; i++) {
        json("busy", "{\"source\": \"hf://slow/model-" + i + "\"}").post("/v1/models").then().statusCode(201);
      }
      json("busy", "{\"source\": \"hf://slow/model-5\"}").post("/v1/models").then().statusCode(429)
          .contentType("application/problem+json").body("limit.name", equalTo("peft.limits.pending-models-per-tenant"))
          .body("limit.value", equalTo(4));
      // Another tenant is not held up by it.
      String other = upload("not-busy", TinyModel.write(dir.resolve("nb")), "nb").post("/v1/models").then().statusCode(201)
          .extract().path("id");
      awaitStatus("not-busy", other, "ready");
    } finally {
      slowHub.stop(0);
      ((java.util.concurrent.ExecutorService) slowHub.getExecutor()).shutdownNow();
      held.forEach(HttpExchange::close);
    }
  }
}

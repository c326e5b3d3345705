package io.peftplatform.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.peftplatform.events.ObjectRef;
import io.peftplatform.infra.S3Server;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against a real S3 API server (s3proxy). */
class ObjectStoreTest {
  @TempDir static Path dir;
  static S3Server s3;
  static ObjectStore store;

  @BeforeAll
  static void start() {
    s3 = S3Server.start(dir.resolve("s3"), 0, "peft", "peft-secret");
    store = new ObjectStore(new StorageConfig(s3.endpoint(), s3.accessKey(), s3.secretKey(), "peft"));
    store.ensureBucket();
    store.ensureBucket(); // idempotent
  }

  @AfterAll
  static void stop() {
    s3.close();
  }

  /** A server that goes away and comes back within the retry window: the calls made meanwhile wait and succeed. */
  @Test
  void callsRideOutAServerThatIsAwayForAWhile() throws Exception {
    Path s3dir = dir.resolve("s3-restarting");
    int port = io.peftplatform.infra.ChildProcess.freePort();
    S3Server first = S3Server.start(s3dir, port, "peft", "peft-secret");
    ObjectStore flaky = ObjectStore.withBucket(new StorageConfig(first.endpoint(), "peft", "peft-secret", "flaky").withRetryFor(Duration.ofSeconds(60)));
    flaky.put("before", new ByteArrayInputStream("a".getBytes()), 1);
    first.close();
    S3Server[] again = new S3Server[1];
    Thread restart = new Thread(() -> {
      try {
        Thread.sleep(3000);
      } catch (InterruptedException e) {
        return;
      }
      again[0] = S3Server.start(s3dir, port, "peft", "peft-secret");
    });
    restart.start();
    try {
      long t0 = System.nanoTime();
      ObjectRef ref = flaky.put("during", new ByteArrayInputStream("bytes".getBytes()), 5);
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThan(Duration.ofSeconds(2));
      assertThat(ref.bytes()).isEqualTo(5);
      assertThat(flaky.readText("before")).isEqualTo("a");
      assertThat(flaky.list("")).contains("before", "during");
    } finally {
      restart.join();
      if (again[0] != null) {
        again[0].close();
      }
    }
  }

  /** What will not change is not retried: a missing key fails at once, and a server that stays away fails after the window. */
  @Test
  void permanentFailuresFailAtOnceAndOutagesAfterTheWindow() {
    long t0 = System.nanoTime();
    assertThatThrownBy(() -> store.readText("tenants/t1/absent")).isInstanceOf(StorageException.class);
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));

    ObjectStore nowhere = new ObjectStore(new StorageConfig("http://127.0.0.1:" + io.peftplatform.infra.ChildProcess.freePort(), "k", "s",
        "nowhere").withRetryFor(Duration.ofSeconds(2)));
    long t1 = System.nanoTime();
    assertThatThrownBy(() -> nowhere.list("x")).isInstanceOf(StorageException.class).hasMessageContaining("cannot list x");
    assertThat(Duration.ofNanos(System.nanoTime() - t1)).isBetween(Duration.ofMillis(1500), Duration.ofSeconds(20));
  }

  @Test
  void uploadsWithChecksumsAndDownloadsVerified() throws Exception {
    Path file = dir.resolve("config.json");
    Files.writeString(file, "{\"hidden_size\": 64}");
    ObjectRef ref = store.put(ObjectLayout.modelPrefix("t1", "m1") + "config.json", file);
    assertThat(ref.sha256()).isEqualTo(ObjectStore.sha256(file));
    assertThat(ref.bytes()).isEqualTo(Files.size(file));
    Path back = dir.resolve("back/config.json");
    store.get(ref, back);
    assertThat(Files.readString(back)).isEqualTo("{\"hidden_size\": 64}");
    assertThat(store.size(ref.key())).hasValue(ref.bytes());
    assertThat(store.size("tenants/t1/none")).isEmpty();

    ObjectRef lying = new ObjectRef(ref.key(), "00".repeat(32), ref.bytes());
    assertThatThrownBy(() -> store.get(lying, dir.resolve("bad/config.json"))).hasMessageContaining("SHA-256 is");
    assertThat(dir.resolve("bad/config.json")).doesNotExist();
  }

  @Test
  void streamsOfUnknownLengthListingDeletionAndPresignedUrls() throws Exception {
    byte[] body = "{\"text\": \"hello\"}\n".repeat(1000).getBytes(StandardCharsets.UTF_8);
    ObjectRef ref = store.put(ObjectLayout.datasetKey("t2", "d1"), new ByteArrayInputStream(body), -1);
    assertThat(ref.bytes()).isEqualTo(body.length);
    store.put("tenants/t2/datasets/d2/data.jsonl", new ByteArrayInputStream(body), body.length);
    assertThat(store.list("tenants/t2/")).containsExactly(ObjectLayout.datasetKey("t2", "d1"), "tenants/t2/datasets/d2/data.jsonl");

    String url = store.presignedGet(ref.key(), Duration.ofMinutes(5));
    HttpResponse<byte[]> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofByteArray());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo(body);

    // Clients may reach the server by another address than the services do: URLs are signed for that one.
    String publicEndpoint = s3.endpoint().replace("127.0.0.1", "localhost");
    assertThat(publicEndpoint).isNotEqualTo(s3.endpoint());
    ObjectStore behindAProxy = new ObjectStore(new StorageConfig("http://peft-s3.invalid:9000", s3.accessKey(), s3.secretKey(),
        "peft", publicEndpoint, "us-east-1"));
    String publicUrl = behindAProxy.presignedGet(ref.key(), Duration.ofMinutes(5));
    assertThat(publicUrl).startsWith(publicEndpoint + "/");
    r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(publicUrl)).build(), HttpResponse.BodyHandlers.ofByteArray());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo(body);

    store.deletePrefix("tenants/t2/");
    assertThat(store.list("tenants/t2/")).isEmpty();
  }

  @Test
  void localCacheDownloadsOnceAndBuildsDirectories() throws Exception {
    Path file = dir.resolve("tokenizer.json");
    Files.writeString(file, "{}");
    ObjectRef ref = store.put(ObjectLayout.modelPrefix("t3", "m") + "tokenizer.json", file);
    LocalCache cache = new LocalCache(dir.resolve("cache"), store);
    Path first = cache.fetch(ref);
    store.delete(ref.key());
    assertThat(cache.fetch(ref)).isEqualTo(first).hasContent("{}");
    Path model = cache.directory("m", List.of(ref));
    assertThat(model.resolve("tokenizer.json")).hasContent("{}");
  }
}

package io.peftplatform.artifacts;

import static io.peftplatform.artifacts.ModelResourceTest.as;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import io.peftplatform.events.EventCodec;
import io.peftplatform.events.JobSucceeded;
import io.peftplatform.events.ObjectRef;
import io.peftplatform.events.Topics;
import io.peftplatform.storage.ObjectLayout;
import io.peftplatform.storage.ObjectStore;
import io.peftplatform.testsupport.EventLog;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

@QuarkusTest
class AdapterRegistryTest {
  @Inject ObjectStore store;

  private ObjectRef put(String key, String content) {
    byte[] b = content.getBytes(StandardCharsets.UTF_8);
    return store.put(key, new ByteArrayInputStream(b), b.length);
  }

  @Test
  void succeededJobsRegisterTheirAdapterOnceWithLineage() throws Exception {
    String jobId = "ftjob-" + Long.toHexString(System.nanoTime());
    String adapterId = Adapter.idForJob(jobId);
    String prefix = ObjectLayout.adapterPrefix("acme", adapterId);
    List<ObjectRef> files = List.of(
        put(prefix + "adapter_config.json", "{\"peft_type\": \"LORA\"}"),
        put(prefix + "adapter_model.safetensors", "weights"),
        put(prefix + "training_provenance.json", "{\"seed\": 7, \"base_model\": {\"path\": \"m\"}}"));
    JobSucceeded event = new JobSucceeded(EventCodec.newId(), Instant.now(), jobId, "acme", "model-1", "lora", files, 1234,
        Map.of("train_loss", 1.5), "completed");
    EventLog.publish(Topics.JOB_EVENTS, event);
    EventLog.publish(Topics.JOB_EVENTS, event); // redelivered
    EventLog.publishRaw(Topics.JOB_EVENTS, jobId, "not an event"); // poison

    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> as("acme").get("/v1/adapters/" + adapterId).statusCode() == 200);
    JsonPath a = as("acme").get("/v1/adapters/" + adapterId).jsonPath();
    assertThat(a.getString("job_id")).isEqualTo(jobId);
    assertThat(a.getString("model_id")).isEqualTo("model-1");
    assertThat(a.getLong("parameters")).isEqualTo(1234);
    assertThat(a.getInt("lineage.seed")).isEqualTo(7);
    assertThat(a.getDouble("metrics.train_loss")).isEqualTo(1.5);
    assertThat(as("acme").get("/v1/adapters?limit=100").jsonPath().getList("data.id").stream().filter(adapterId::equals)).hasSize(1);
    as("other").get("/v1/adapters/" + adapterId).then().statusCode(404);

    // As OpenAI lists fine-tuned models: the adapter is a model on its base, by its id or an ft: name, paged with the rest.
    as("acme").get("/v1/models/" + adapterId).then().statusCode(200).body("object", equalTo("model")).body("parent", equalTo("model-1"))
        .body("owned_by", equalTo("acme"));
    as("acme").get("/v1/models/ft:model-1:acme:x:" + adapterId).then().statusCode(200).body("id", equalTo(adapterId));
    as("other").get("/v1/models/" + adapterId).then().statusCode(404);
    List<String> paged = new java.util.ArrayList<>();
    String after = null;
    for (int page = 0; page < 1000; page++) {
      JsonPath p = as("acme").queryParam("limit", 1).queryParam("after", after).get("/v1/models").jsonPath();
      paged.addAll(p.getList("data.id"));
      if (!p.getBoolean("has_more")) {
        break;
      }
      after = p.getString("last_id");
    }
    assertThat(paged).contains(adapterId).doesNotHaveDuplicates();
    assertThat(paged).isEqualTo(as("acme").get("/v1/models?limit=100").jsonPath().getList("data.id"));

    byte[] tarGz = as("acme").get("/v1/adapters/" + adapterId + "/content").then().statusCode(200).extract().asByteArray();
    Map<String, String> entries = entries(tarGz);
    assertThat(entries.keySet()).containsExactly(adapterId + "/adapter_config.json", adapterId + "/adapter_model.safetensors",
        adapterId + "/training_provenance.json");
    assertThat(entries.get(adapterId + "/adapter_model.safetensors")).isEqualTo("weights");
    // A LoRA is in PEFT's format as trained: ?format=peft is the same files (the archive's times may differ); an unknown
    // format is refused by name.
    assertThat(entries(as("acme").get("/v1/adapters/" + adapterId + "/content?format=peft").then().statusCode(200).extract().asByteArray()))
        .containsExactlyEntriesOf(entries);
    as("acme").get("/v1/adapters/" + adapterId + "/content?format=gguf").then().statusCode(400).body("field", equalTo("format"));

    String url = as("acme").get("/v1/adapters/" + adapterId + "/files").jsonPath().getString("[1].url");
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.body()).isEqualTo("weights");

    // The poison message went to the dead-letter topic instead of stopping the consumer.
    EventLog.awaitRaw(Topics.JOB_EVENTS + ".artifacts.dlq", "not an event"::equals, 1, Duration.ofSeconds(30));

    as("acme").delete("/v1/adapters/" + adapterId).then().statusCode(200).body("deleted", equalTo(true));
    assertThat(store.list(prefix)).isEmpty();
  }

  /** The archive's entries in order, name to content. */
  private static Map<String, String> entries(byte[] tarGz) throws Exception {
    Map<String, String> entries = new LinkedHashMap<>();
    try (TarArchiveInputStream tar = new TarArchiveInputStream(new GzipCompressorInputStream(new ByteArrayInputStream(tarGz)))) {
      for (var e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
        entries.put(e.getName(), new String(tar.readAllBytes(), StandardCharsets.UTF_8));
      }
    }
    return entries;
  }
}

package io.peftplatform.stack;

import com.fasterxml.jackson.databind.JsonNode;
import io.peftplatform.client.PeftApiException;
import io.peftplatform.client.PeftClient;
import io.peftplatform.llama.checkpoint.CheckpointWriter;
import io.peftplatform.llama.checkpoint.Presets;
import io.peftplatform.safetensors.DType;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * A first job's ingredients, registered through the public API on a stack's first start: a tiny
 * random-weight model (peft init-model --preset tiny) and a 50-line prompt/completion dataset.
 */
public final class DemoContent {
  /** The demo model's and dataset's ids. */
  public record Ids(String model, String dataset) {}

  private DemoContent() {}

  static Ids ensure(Path dataDir, StackState state, String url, Consumer<String> say) {
    try (PeftClient client = new PeftClient(url, state.get("admin-key"))) {
      String model = state.get("demo-model");
      String dataset = state.get("demo-dataset");
      if (model != null && dataset != null && exists(() -> client.getModel(model)) && exists(() -> client.getDataset(dataset))) {
        return new Ids(model, dataset);
      }
      say.accept("registering the demo model and dataset…");
      Path dir = dataDir.resolve("demo/model");
      CheckpointWriter.writeRandom(dir, Presets.get("tiny"), 0, DType.F32, Long.MAX_VALUE);
      String modelId = client.uploadModel(dir, "demo-tiny").path("id").asText();
      JsonNode m = awaitModel(client, modelId);
      if (!"ready".equals(m.path("status").asText())) {
        throw new IllegalStateException("the demo model was refused: " + m.path("error"));
      }
      String datasetId = client.uploadDataset(dataset(), "demo-opposites.jsonl").path("id").asText();
      state.set("demo-model", modelId);
      state.set("demo-dataset", datasetId);
      return new Ids(modelId, datasetId);
    }
  }

  private static JsonNode awaitModel(PeftClient client, String id) {
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    while (true) {
      JsonNode m = client.getModel(id);
      if (!"validating".equals(m.path("status").asText()) || System.nanoTime() > deadline) {
        return m;
      }
      try {
        Thread.sleep(250);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }
  }

  private static boolean exists(Runnable get) {
    try {
      get.run();
      return true;
    } catch (PeftApiException e) {
      if (e.status() == 404) {
        return false;
      }
      throw e;
    }
  }

  /** The bundled demo dataset, as JSONL. */
  public static String dataset() {
    try (InputStream in = DemoContent.class.getResourceAsStream("demo-dataset.jsonl")) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

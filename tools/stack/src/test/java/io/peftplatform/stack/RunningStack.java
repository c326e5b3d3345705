package io.peftplatform.stack;

import io.peftplatform.client.PeftClient;
import io.peftplatform.llama.checkpoint.CheckpointWriter;
import io.peftplatform.llama.checkpoint.Presets;
import io.peftplatform.safetensors.DType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * One stack for every end-to-end test of the JVM — embedded Kafka, S3 and PostgreSQL, and each service as
 * its own process, built from this checkout — started on first use and stopped when the JVM exits.
 */
final class RunningStack {
  static final Duration JOB_TIMEOUT = Duration.ofMinutes(4);
  private static Stack stack;
  private static Path scratch;
  private static Path model;

  private RunningStack() {}

  static synchronized Stack get() {
    if (stack == null) {
      try {
        scratch = Files.createTempDirectory("peft-e2e");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      Path home = Path.of("").toAbsolutePath().resolve("../..").normalize();
      stack = Stack.start(new Stack.Options(home, scratch.resolve("data"), 0, 1, false, Map.of(),
          line -> System.out.println("[stack] " + line)));
      Runtime.getRuntime().addShutdownHook(new Thread(stack::close, "stop-e2e-stack"));
    }
    return stack;
  }

  static PeftClient admin() {
    return new PeftClient(get().url(), get().adminKey());
  }

  /** A client for a new tenant (a key of its own). */
  static PeftClient tenant(String name) {
    return new PeftClient(get().url(), tenantKey(name));
  }

  /** A new API key of a tenant. */
  static String tenantKey(String name) {
    try (PeftClient admin = admin()) {
      return admin.createApiKey(name, name + " e2e").path("key").asText();
    }
  }

  /** A tiny random-weight model directory (written once). */
  static synchronized Path tinyModel() {
    if (model == null) {
      get();
      model = scratch.resolve("tiny-model");
      CheckpointWriter.writeRandom(model, Presets.get("tiny"), 11, DType.F32, Long.MAX_VALUE);
    }
    return model;
  }

  static Path scratch(String name) {
    get();
    try {
      return Files.createDirectories(scratch.resolve(name));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Polls a model until it leaves validation. */
  static com.fasterxml.jackson.databind.JsonNode ready(PeftClient c, String modelId) {
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    while (true) {
      var m = c.getModel(modelId);
      if (!"validating".equals(m.path("status").asText()) || System.nanoTime() > deadline) {
        return m;
      }
      sleep(200);
    }
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}

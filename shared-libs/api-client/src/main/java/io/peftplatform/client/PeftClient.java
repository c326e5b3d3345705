package io.peftplatform.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.stream.Stream;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.MultipartBody;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.sse.EventSource;
import okhttp3.sse.EventSourceListener;
import okhttp3.sse.EventSources;

/**
 * The public API, from Java: one method per endpoint, JSON in and out as Jackson trees (the shapes are
 * the API's own, documented in its OpenAPI document). Every refusal is a {@link PeftApiException}
 * carrying the problem document's detail and field.
 */
public final class PeftClient implements AutoCloseable {
  static final ObjectMapper JSON = new ObjectMapper();
  private static final MediaType JSON_TYPE = MediaType.get("application/json");
  private static final MediaType JSONL_TYPE = MediaType.get("application/jsonl");
  private static final MediaType BINARY = MediaType.get("application/octet-stream");
  /** Job statuses after which nothing changes. */
  public static final Set<String> TERMINAL = Set.of("succeeded", "failed", "cancelled");

  private final HttpUrl base;
  private final String apiKey;
  private final OkHttpClient http;

  /**
   * @param baseUrl the API's address, e.g. http://localhost:8080
   * @param apiKey a bearer key; null to call without one (only health and documentation answer)
   */
  public PeftClient(String baseUrl, String apiKey) {
    HttpUrl parsed = HttpUrl.parse(baseUrl);
    if (parsed == null) {
      throw new IllegalArgumentException("not an http(s) URL: " + baseUrl);
    }
    this.base = parsed;
    this.apiKey = apiKey;
    this.http = new OkHttpClient.Builder().connectTimeout(Duration.ofSeconds(10)).readTimeout(Duration.ofMinutes(10))
        .writeTimeout(Duration.ofMinutes(10)).callTimeout(Duration.ZERO).build();
  }

  // ---- models

  /** Uploads a Hugging Face model directory's files (not its subdirectories). */
  public JsonNode uploadModel(Path directory, String name) {
    MultipartBody.Builder form = new MultipartBody.Builder().setType(MultipartBody.FORM);
    if (name != null) {
      form.addFormDataPart("name", name);
    }
    try (Stream<Path> files = Files.list(directory)) {
      List<Path> regular = files.filter(Files::isRegularFile).sorted().toList();
      if (regular.isEmpty()) {
        throw new IllegalArgumentException(directory + " has no files");
      }
      for (Path f : regular) {
        form.addFormDataPart("file", f.getFileName().toString(), RequestBody.create(f.toFile(), BINARY));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + directory + ": " + e.getMessage(), e);
    }
    return send(post("v1/models", form.build()));
  }

  /** Imports a model from hf://org/name[@revision], an https:// archive or s3://bucket/prefix. */
  public JsonNode importModel(String source, String name) {
    ObjectNode body = JSON.createObjectNode().put("source", source);
    if (name != null) {
      body.put("name", name);
    }
    return send(post("v1/models", json(body)));
  }

  public JsonNode listModels(String after, int limit) {
    return send(get(url("v1/models").addQueryParameter("limit", String.valueOf(limit)), "after", after));
  }

  public JsonNode getModel(String id) {
    return send(get(url("v1/models", id), null, null));
  }

  public JsonNode deleteModel(String id) {
    return send(delete(url("v1/models", id)));
  }

  // ---- datasets

  /** Streams a JSONL file up. */
  public JsonNode uploadDataset(Path file, String name) {
    HttpUrl.Builder u = url("v1/files");
    if (name != null) {
      u.addQueryParameter("name", name);
    }
    return send(new Request.Builder().url(u.build()).post(RequestBody.create(file.toFile(), JSONL_TYPE)));
  }

  public JsonNode uploadDataset(String jsonl, String name) {
    HttpUrl.Builder u = url("v1/files");
    if (name != null) {
      u.addQueryParameter("name", name);
    }
    return send(new Request.Builder().url(u.build()).post(RequestBody.create(jsonl, JSONL_TYPE)));
  }

  public JsonNode listDatasets(String after, int limit) {
    return send(get(url("v1/files").addQueryParameter("limit", String.valueOf(limit)), "after", after));
  }

  public JsonNode getDataset(String id) {
    return send(get(url("v1/files", id), null, null));
  }

  public JsonNode deleteDataset(String id) {
    return send(delete(url("v1/files", id)));
  }

  // ---- fine-tuning jobs

  /** Creates a job from a request body {model, training_file, method, hyperparameters, …}. */
  public JsonNode createJob(JsonNode request) {
    return send(post("v1/fine_tuning/jobs", json(request)));
  }

  /** A page of jobs, newest first; status may be null. */
  public JsonNode listJobs(String status, String after, int limit) {
    HttpUrl.Builder u = url("v1/fine_tuning/jobs").addQueryParameter("limit", String.valueOf(limit));
    if (status != null) {
      u.addQueryParameter("status", status);
    }
    return send(get(u, "after", after));
  }

  public JsonNode getJob(String id) {
    return send(get(url("v1/fine_tuning/jobs", id), null, null));
  }

  public JsonNode cancelJob(String id) {
    return send(post("v1/fine_tuning/jobs/" + segment(id) + "/cancel", RequestBody.create(new byte[0], JSON_TYPE)));
  }

  /** Its worker checkpoints and stops; the job is paused until resumed. */
  public JsonNode pauseJob(String id) {
    return send(post("v1/fine_tuning/jobs/" + segment(id) + "/pause", RequestBody.create(new byte[0], JSON_TYPE)));
  }

  public JsonNode resumeJob(String id) {
    return send(post("v1/fine_tuning/jobs/" + segment(id) + "/resume", RequestBody.create(new byte[0], JSON_TYPE)));
  }

  /** A page of a job's events, oldest first. */
  public JsonNode jobEvents(String id, String after, int limit) {
    return send(get(url("v1/fine_tuning/jobs", id, "events").addQueryParameter("limit", String.valueOf(limit)), "after", after));
  }

  public JsonNode jobCheckpoints(String id) {
    return send(get(url("v1/fine_tuning/jobs", id, "checkpoints"), null, null));
  }

  /**
   * Follows a job's events live (server-sent events) from its first, handing each to {@code onEvent},
   * until the job reaches a final status; returns the job as it ended.
   */
  public JsonNode followJob(String id, Consumer<JsonNode> onEvent, Duration timeout) {
    getJob(id); // a missing job or a bad key fails here, with the API's problem
    CompletableFuture<Void> closed = new CompletableFuture<>();
    Request request = authorized(new Request.Builder().url(url("v1/fine_tuning/jobs", id, "events").build())
        .header("Accept", "text/event-stream")).build();
    OkHttpClient streaming = http.newBuilder().readTimeout(Duration.ofMinutes(5)).build();
    EventSource source = EventSources.createFactory(streaming).newEventSource(request, new EventSourceListener() {
      @Override
      public void onEvent(EventSource s, String eventId, String type, String data) {
        try {
          onEvent.accept(JSON.readTree(data));
        } catch (IOException e) {
          closed.completeExceptionally(e);
        } catch (RuntimeException e) {
          closed.completeExceptionally(e);
          s.cancel();
        }
      }

      @Override
      public void onClosed(EventSource s) {
        closed.complete(null);
      }

      @Override
      public void onFailure(EventSource s, Throwable t, Response response) {
        if (response != null && response.code() >= 400) {
          closed.completeExceptionally(PeftApiException.of(response.code(), bodyOf(response)));
        } else {
          closed.completeExceptionally(t == null ? new IOException("event stream failed") : t);
        }
      }
    });
    try {
      closed.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new PeftApiException(0, "job " + id + " did not finish within " + timeout.toSeconds() + " s", null, null);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof PeftApiException api) {
        throw api;
      }
      throw new PeftApiException(0, "lost the event stream of " + id + ": " + e.getCause().getMessage(), null, null);
    } finally {
      source.cancel();
    }
    return getJob(id);
  }

  /** Polls a job until it reaches a final status (or the timeout passes); returns it. */
  public JsonNode awaitJob(String id, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      JsonNode job = getJob(id);
      if (TERMINAL.contains(job.path("status").asText()) || System.nanoTime() > deadline) {
        return job;
      }
      sleep(500);
    }
  }

  // ---- adapters

  public JsonNode listAdapters(String after, int limit) {
    return send(get(url("v1/adapters").addQueryParameter("limit", String.valueOf(limit)), "after", after));
  }

  public JsonNode getAdapter(String id) {
    return send(get(url("v1/adapters", id), null, null));
  }

  public JsonNode adapterFiles(String id) {
    return send(get(url("v1/adapters", id, "files"), null, null));
  }

  public JsonNode deleteAdapter(String id) {
    return send(delete(url("v1/adapters", id)));
  }

  /** Downloads an adapter as a PEFT directory (adapter_config.json, adapter_model.safetensors, …); returns its files. */
  public List<Path> downloadAdapter(String id, Path directory) {
    return downloadAdapter(id, directory, null);
  }

  /** As {@link #downloadAdapter(String, Path)}; {@code format} "peft" asks for what PEFT, vLLM and LoRAX load (NOLA as LoRA). */
  public List<Path> downloadAdapter(String id, Path directory, String format) {
    HttpUrl.Builder u = url("v1/adapters", id, "content");
    if (format != null) {
      u.addQueryParameter("format", format);
    }
    Request request = authorized(new Request.Builder().url(u.build())).build();
    try (Response response = http.newCall(request).execute()) {
      if (!response.isSuccessful()) {
        throw PeftApiException.of(response.code(), bodyOf(response));
      }
      try (InputStream in = response.body().byteStream()) {
        return TarGz.extract(in, directory, id);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot download adapter " + id + ": " + e.getMessage(), e);
    }
  }

  // ---- merges

  /**
   * {model, adapters: [{id, weight}], method, density, seed, output: {type: model|adapter, rank}, name}; a
   * learned merge's adapters [{id, calibration_file}], calibration_file and hyperparameters; or {config}.
   */
  public JsonNode createMerge(JsonNode request) {
    return send(post("v1/merges", json(request)));
  }

  public JsonNode listMerges(String after, int limit) {
    return send(get(url("v1/merges").addQueryParameter("limit", String.valueOf(limit)), "after", after));
  }

  public JsonNode getMerge(String id) {
    return send(get(url("v1/merges", id), null, null));
  }

  /** Polls a merge until it has ended — succeeded, failed or cancelled — or the timeout passes; returns it. */
  public JsonNode awaitMerge(String id, Duration timeout) {
    return awaitMerge(id, timeout, merge -> {});
  }

  /** {@link #awaitMerge(String, Duration)}, showing each poll's answer to {@code onPoll} (a learned merge's progress). */
  public JsonNode awaitMerge(String id, Duration timeout, java.util.function.Consumer<JsonNode> onPoll) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      JsonNode merge = getMerge(id);
      onPoll.accept(merge);
      String status = merge.path("status").asText();
      if (!(status.equals("queued") || status.equals("running")) || System.nanoTime() > deadline) {
        return merge;
      }
      sleep(500);
    }
  }

  /** A queued merge is cancelled at once; a running learned merge stops after its current step. */
  public JsonNode cancelMerge(String id) {
    return send(post("v1/merges/" + segment(id) + "/cancel", RequestBody.create(new byte[0], JSON_TYPE)));
  }

  // ---- generation, keys, anything else

  /** OpenAI's completion request: {model, prompt, max_tokens, temperature, top_p, stop, seed, n}. */
  public JsonNode completion(JsonNode request) {
    return send(post("v1/completions", json(request)));
  }

  /** OpenAI's chat completion request: {model, messages: [{role, content}], max_tokens, temperature, …}. */
  public JsonNode chatCompletion(JsonNode request) {
    return send(post("v1/chat/completions", json(request)));
  }

  /** Admin only: a key for a tenant (the secret is in the answer, once). */
  public JsonNode createApiKey(String tenant, String name) {
    ObjectNode body = JSON.createObjectNode().put("tenant", tenant);
    if (name != null) {
      body.put("name", name);
    }
    return send(post("v1/api-keys", json(body)));
  }

  /** Admin only: every API key (of one tenant when given); secrets are not included. */
  public JsonNode listApiKeys(String tenant) {
    return send(get(url("v1/api-keys"), "tenant", tenant));
  }

  /** Admin only: revokes a key. */
  public JsonNode revokeApiKey(String id) {
    return send(delete(url("v1/api-keys", segment(id))));
  }

  /** A GET of any API path, e.g. "q/health/ready". */
  public JsonNode get(String path) {
    return send(get(url(path), null, null));
  }

  // ---- plumbing

  private HttpUrl.Builder url(String path, String... segments) {
    HttpUrl.Builder b = base.newBuilder().addPathSegments(path);
    for (String s : segments) {
      b.addPathSegment(s);
    }
    return b;
  }

  private static String segment(String id) {
    if (id == null || id.isBlank() || id.contains("/")) {
      throw new IllegalArgumentException("not an id: '" + id + "'");
    }
    return id;
  }

  private Request.Builder authorized(Request.Builder b) {
    if (apiKey != null && !apiKey.isBlank()) {
      b.header("Authorization", "Bearer " + apiKey);
    }
    return b;
  }

  private static Request.Builder get(HttpUrl.Builder u, String param, String value) {
    if (value != null) {
      u.addQueryParameter(param, value);
    }
    return new Request.Builder().url(u.build()).get();
  }

  private Request.Builder post(String path, RequestBody body) {
    return new Request.Builder().url(url(path).build()).post(body);
  }

  private static Request.Builder delete(HttpUrl.Builder u) {
    return new Request.Builder().url(u.build()).delete();
  }

  private static RequestBody json(JsonNode body) {
    try {
      return RequestBody.create(JSON.writeValueAsBytes(body), JSON_TYPE);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private JsonNode send(Request.Builder request) {
    try (Response response = http.newCall(authorized(request).header("Accept", "application/json").build()).execute()) {
      String body = bodyOf(response);
      if (!response.isSuccessful()) {
        throw PeftApiException.of(response.code(), body);
      }
      return body.isEmpty() ? JSON.createObjectNode() : JSON.readTree(body);
    } catch (IOException e) {
      throw new PeftApiException(0, "cannot reach " + base + ": " + e.getMessage(), null, null);
    }
  }

  private static String bodyOf(Response response) {
    try {
      return response.body() == null ? "" : response.body().string();
    } catch (IOException e) {
      return "";
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** Every page of a list endpoint, for callers that want it all. */
  public static List<JsonNode> all(java.util.function.Function<String, JsonNode> page) {
    List<JsonNode> out = new ArrayList<>();
    String after = null;
    while (true) {
      JsonNode p = page.apply(after);
      p.path("data").forEach(out::add);
      if (!p.path("has_more").asBoolean(false) || out.isEmpty()) {
        return out;
      }
      after = out.get(out.size() - 1).path("id").asText();
    }
  }

  @Override
  public void close() {
    http.dispatcher().executorService().shutdown();
    http.connectionPool().evictAll();
  }
}

package io.peftplatform.jobs.rest;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftplatform.events.ObjectRef;
import io.peftplatform.jobs.config.JobsConfig;
import io.peftplatform.jobs.service.ServedModels;
import io.peftplatform.service.auth.InternalCaller;
import io.peftplatform.service.problem.ApiException;
import io.peftplatform.service.problem.Problem;
import jakarta.inject.Inject;
import jakarta.validation.Valid;
import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * OpenAI's inference endpoints, {@code POST /v1/chat/completions} and {@code POST /v1/completions}, with
 * their request and response objects and {@code stream: true} as server-sent chunks ending in
 * {@code [DONE]}. {@code model} is a base or merged model or a fine-tuned model (an adapter); the name is
 * resolved here to the tenant's files, and a worker generates, keeping one copy of each base in memory
 * for all of its adapters.
 */
@Path("/v1")
@Tag(name = "inference")
public class InferenceResource {
  private static final SecureRandom RANDOM = new SecureRandom();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  @Inject Callers callers;
  @Inject JobsConfig config;
  @Inject ServedModels models;
  @Inject ObjectMapper json;

  /** What both endpoints share, OpenAI's names; sampling defaults are OpenAI's (temperature 1, top_p 1), the worker's. */
  record Sampling(Integer maxTokens, Double temperature, Double topP, List<String> stop, Long seed, int n, boolean stream,
      boolean includeUsage) {
    Sampling(Integer maxTokens, Double temperature, Double topP, JsonNode stop, Long seed, Integer n, Boolean stream, StreamOptions options) {
      this(maxTokens, temperature, topP, stops(stop), seed, n == null ? 1 : n, Boolean.TRUE.equals(stream),
          options != null && Boolean.TRUE.equals(options.includeUsage()));
    }
  }

  /** What a worker is sent (its /internal/inference request): the files come from the registry alone. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  record WorkerRequest(List<ObjectRef> modelFiles, List<ObjectRef> adapterFiles, List<Map<String, String>> messages, String prompt,
      Integer maxTokens, Double temperature, Double topP, List<String> stop, Long seed, int n, boolean stream) {}

  public record ChatRequest(
      @NotBlank(message = "is required: a model id or a fine-tuned model's id") @Size(max = 256) String model,
      @NotEmpty(message = "is required: at least one message") @Size(max = 1000) List<@Valid @NotNull ChatMessage> messages,
      @Min(value = 1, message = "must be at least 1") Integer maxTokens,
      @Min(value = 1, message = "must be at least 1") Integer maxCompletionTokens,
      @DecimalMin(value = "0", message = "must be from 0 to 2") @DecimalMax(value = "2", message = "must be from 0 to 2") Double temperature,
      @DecimalMin(value = "0", inclusive = false, message = "must be in (0, 1]") @DecimalMax(value = "1", message = "must be in (0, 1]") Double topP,
      JsonNode stop,
      Long seed,
      @Min(value = 1, message = "must be from 1 to 8") @Max(value = 8, message = "must be from 1 to 8") Integer n,
      Boolean stream,
      StreamOptions streamOptions,
      @Size(max = 256) String user,
      Double frequencyPenalty,
      Double presencePenalty,
      Boolean logprobs,
      Map<String, String> metadata,
      Boolean store) {}

  /** {@code content} is a string or a list of {@code {"type": "text", "text": …}} parts. */
  public record ChatMessage(
      @NotBlank(message = "is required")
      @jakarta.validation.constraints.Pattern(regexp = "system|developer|user|assistant|tool", message = "must be system, developer, user, assistant or tool")
      String role,
      JsonNode content,
      @Size(max = 256) String name) {}

  public record StreamOptions(Boolean includeUsage) {}

  public record CompletionRequest(
      @NotBlank(message = "is required: a model id or a fine-tuned model's id") @Size(max = 256) String model,
      @NotNull(message = "is required: the text to continue") JsonNode prompt,
      @Min(value = 1, message = "must be at least 1") Integer maxTokens,
      @DecimalMin(value = "0", message = "must be from 0 to 2") @DecimalMax(value = "2", message = "must be from 0 to 2") Double temperature,
      @DecimalMin(value = "0", inclusive = false, message = "must be in (0, 1]") @DecimalMax(value = "1", message = "must be in (0, 1]") Double topP,
      JsonNode stop,
      Long seed,
      @Min(value = 1, message = "must be from 1 to 8") @Max(value = 8, message = "must be from 1 to 8") Integer n,
      Boolean stream,
      StreamOptions streamOptions,
      @Size(max = 256) String user,
      Double frequencyPenalty,
      Double presencePenalty,
      Integer logprobs,
      Boolean echo,
      String suffix,
      Integer bestOf) {}

  @POST
  @Path("chat/completions")
  @Consumes(MediaType.APPLICATION_JSON)
  @Produces({MediaType.APPLICATION_JSON, MediaType.SERVER_SENT_EVENTS})
  @Operation(summary = "Chat with a model", description = "OpenAI's chat completion: `model` (a base, merged or fine-tuned model), "
      + "`messages` rendered with the model's chat template, `max_tokens`/`max_completion_tokens`, `temperature`, `top_p`, `stop`, "
      + "`seed`, `n`; `stream: true` answers `chat.completion.chunk` server-sent events ending in `[DONE]`.")
  public Response chat(@Context HttpHeaders headers, @Valid ChatRequest r) {
    String tenant = callers.tenant(headers);
    if (r == null) {
      throw ApiException.badRequest("a JSON body {\"model\": …, \"messages\": […]} is required", "model");
    }
    refusePenalties(r.frequencyPenalty(), r.presencePenalty());
    if (Boolean.TRUE.equals(r.logprobs())) {
      throw ApiException.badRequest("log probabilities are not available", "logprobs");
    }
    if (r.maxTokens() != null && r.maxCompletionTokens() != null) {
      throw ApiException.badRequest("give max_completion_tokens or max_tokens, not both", "max_tokens");
    }
    List<Map<String, String>> messages = new ArrayList<>();
    for (int i = 0; i < r.messages().size(); i++) {
      String role = r.messages().get(i).role().equals("developer") ? "system" : r.messages().get(i).role(); // OpenAI's newer name
      messages.add(Map.of("role", role, "content", content(r.messages().get(i).content(), "messages[" + i + "].content")));
    }
    Sampling s = new Sampling(r.maxCompletionTokens() != null ? r.maxCompletionTokens() : r.maxTokens(), r.temperature(), r.topP(),
        r.stop(), r.seed(), r.n(), r.stream(), r.streamOptions());
    return run(tenant, r.model(), messages, null, s);
  }

  @POST
  @Path("completions")
  @Consumes(MediaType.APPLICATION_JSON)
  @Produces({MediaType.APPLICATION_JSON, MediaType.SERVER_SENT_EVENTS})
  @Operation(summary = "Continue a text", description = "OpenAI's (legacy) completion: `model`, `prompt` (a string), `max_tokens` "
      + "(16 unless given), `temperature`, `top_p`, `stop`, `seed`, `n`; `stream: true` answers `text_completion` server-sent events.")
  public Response complete(@Context HttpHeaders headers, @Valid CompletionRequest r) {
    String tenant = callers.tenant(headers);
    if (r == null) {
      throw ApiException.badRequest("a JSON body {\"model\": …, \"prompt\": …} is required", "model");
    }
    refusePenalties(r.frequencyPenalty(), r.presencePenalty());
    if (r.logprobs() != null && r.logprobs() > 0) {
      throw ApiException.badRequest("log probabilities are not available", "logprobs");
    }
    if (Boolean.TRUE.equals(r.echo())) {
      throw ApiException.badRequest("echo is not supported", "echo");
    }
    if (r.suffix() != null) {
      throw ApiException.badRequest("insertion (suffix) is not supported", "suffix");
    }
    if (r.bestOf() != null && r.bestOf() != 1) {
      throw ApiException.badRequest("best_of other than 1 is not supported", "best_of");
    }
    String prompt;
    if (r.prompt().isTextual()) {
      prompt = r.prompt().asText();
    } else if (r.prompt().isArray() && r.prompt().size() == 1 && r.prompt().get(0).isTextual()) {
      prompt = r.prompt().get(0).asText();
    } else {
      throw ApiException.badRequest("must be a string (or a list of one string)", "prompt");
    }
    if (prompt.isEmpty()) {
      throw ApiException.badRequest("must not be empty", "prompt");
    }
    Sampling s = new Sampling(r.maxTokens() == null ? 16 : r.maxTokens(), r.temperature(), r.topP(), r.stop(), r.seed(), r.n(),
        r.stream(), r.streamOptions());
    return run(tenant, r.model(), null, prompt, s);
  }

  private static void refusePenalties(Double frequency, Double presence) {
    if (frequency != null && frequency != 0) {
      throw ApiException.badRequest("penalties are not supported (only 0)", "frequency_penalty");
    }
    if (presence != null && presence != 0) {
      throw ApiException.badRequest("penalties are not supported (only 0)", "presence_penalty");
    }
  }

  private static String content(JsonNode content, String field) {
    if (content == null || content.isNull()) {
      throw ApiException.badRequest("is required", field);
    }
    if (content.isTextual()) {
      return content.asText();
    }
    if (content.isArray()) {
      StringBuilder text = new StringBuilder();
      for (int i = 0; i < content.size(); i++) {
        JsonNode part = content.get(i);
        if (!part.path("type").asText().equals("text") || !part.path("text").isTextual()) {
          throw ApiException.badRequest("only text parts ({\"type\": \"text\", \"text\": …}) are supported", field + "[" + i + "]");
        }
        text.append(part.path("text").asText());
      }
      return text.toString();
    }
    throw ApiException.badRequest("must be a string or a list of text parts", field);
  }

  private static List<String> stops(JsonNode stop) {
    if (stop == null || stop.isNull()) {
      return List.of();
    }
    if (stop.isTextual()) {
      return List.of(stop.asText());
    }
    if (stop.isArray() && stop.size() <= 4) {
      List<String> out = new ArrayList<>();
      stop.forEach(s -> {
        if (!s.isTextual() || s.asText().isEmpty() || s.asText().length() > 256) {
          throw ApiException.badRequest("must be up to 4 non-empty strings of up to 256 characters", "stop");
        }
        out.add(s.asText());
      });
      return out;
    }
    throw ApiException.badRequest("must be a string or a list of up to 4 strings", "stop");
  }

  /** Exactly one of {@code messages} (chat) and {@code prompt} (completions). */
  private Response run(String tenant, String model, List<Map<String, String>> messages, String prompt, Sampling s) {
    boolean chat = messages != null;
    ServedModels.Target target = models.resolve(tenant, model);
    WorkerRequest request = new WorkerRequest(target.modelFiles(), target.adapterFiles(), messages, prompt, s.maxTokens(), s.temperature(),
        s.topP(), s.stop(), s.seed(), s.n(), s.stream());
    HttpRequest forward;
    try {
      forward = HttpRequest.newBuilder(URI.create(config.trainingUrl() + "/internal/inference"))
          .header("Content-Type", "application/json")
          .header(InternalCaller.TOKEN, config.internalToken())
          .header(InternalCaller.TENANT, tenant)
          .timeout(Duration.ofMinutes(10))
          .POST(HttpRequest.BodyPublishers.ofByteArray(json.writeValueAsBytes(request)))
          .build();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    HttpResponse<Stream<String>> r;
    try {
      r = http.send(forward, HttpResponse.BodyHandlers.ofLines());
    } catch (IOException e) {
      return Problem.of(503, "no worker is reachable for generation; try again shortly", null).toResponse();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Problem.of(503, "interrupted; try again", null).toResponse();
    }
    String id = (chat ? "chatcmpl-" : "cmpl-") + hex();
    long created = Instant.now().getEpochSecond();
    if (r.statusCode() != 200) {
      String body = String.join("\n", r.body().toList());
      String type = r.headers().firstValue("Content-Type").orElse(Problem.MEDIA_TYPE);
      return Response.status(r.statusCode()).type(type).entity(body).build();
    }
    if (!s.stream()) {
      JsonNode result = read(String.join("\n", r.body().toList()));
      return Response.ok(completion(id, created, model, chat, result), MediaType.APPLICATION_JSON).build();
    }
    Iterator<String> lines = r.body().iterator();
    StreamingOutput events = out -> {
      try {
        java.util.Set<Integer> started = new java.util.HashSet<>();
        while (lines.hasNext()) {
          JsonNode line = read(lines.next());
          if (line.has("error")) {
            event(out, json.createObjectNode().set("error", line.path("error").path("error")));
            break;
          }
          if (line.has("usage")) {
            if (s.includeUsage()) {
              ObjectNode usage = chunk(id, created, model, chat);
              usage.putArray("choices");
              usage.set("usage", line.get("usage"));
              event(out, usage);
            }
            continue;
          }
          int index = line.path("index").asInt();
          ObjectNode c = chunk(id, created, model, chat);
          ObjectNode choice = c.putArray("choices").addObject().put("index", index);
          if (chat) {
            ObjectNode delta = choice.putObject("delta");
            if (started.add(index)) {
              delta.put("role", "assistant");
            }
            if (line.has("text")) {
              delta.put("content", line.path("text").asText());
            }
          } else {
            choice.put("text", line.path("text").asText(""));
          }
          choice.putNull("logprobs");
          if (line.has("finish_reason")) {
            choice.put("finish_reason", line.path("finish_reason").asText());
          } else {
            choice.putNull("finish_reason");
          }
          event(out, c);
        }
        out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
        out.flush();
      } finally {
        r.body().close(); // a client that went away stops the worker's generation
      }
    };
    return Response.ok(events, MediaType.SERVER_SENT_EVENTS).header("Cache-Control", "no-cache").header("X-Accel-Buffering", "no").build();
  }

  private ObjectNode chunk(String id, long created, String model, boolean chat) {
    ObjectNode c = json.createObjectNode().put("id", id).put("object", chat ? "chat.completion.chunk" : "text_completion")
        .put("created", created).put("model", model);
    if (chat) {
      c.putNull("system_fingerprint");
    }
    return c;
  }

  private ObjectNode completion(String id, long created, String model, boolean chat, JsonNode result) {
    ObjectNode c = json.createObjectNode().put("id", id).put("object", chat ? "chat.completion" : "text_completion")
        .put("created", created).put("model", model);
    var choices = c.putArray("choices");
    for (JsonNode r : result.path("choices")) {
      ObjectNode choice = choices.addObject().put("index", r.path("index").asInt());
      if (chat) {
        choice.putObject("message").put("role", "assistant").put("content", r.path("text").asText()).putNull("refusal");
      } else {
        choice.put("text", r.path("text").asText());
      }
      choice.putNull("logprobs");
      choice.put("finish_reason", r.path("finish_reason").asText());
    }
    c.set("usage", result.path("usage"));
    if (chat) {
      c.putNull("system_fingerprint");
    }
    return c;
  }

  private void event(OutputStream out, JsonNode value) throws IOException {
    out.write(("data: " + json.writeValueAsString(value) + "\n\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  private JsonNode read(String s) {
    try {
      return json.readTree(s);
    } catch (IOException e) {
      throw new IllegalStateException("a worker answered what is not JSON", e);
    }
  }

  private static String hex() {
    byte[] b = new byte[12];
    RANDOM.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }
}

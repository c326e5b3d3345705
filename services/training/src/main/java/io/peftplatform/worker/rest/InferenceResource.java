package io.peftplatform.worker.rest;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftplatform.events.ObjectRef;
import io.peftplatform.llama.config.ModelException;
import io.peftplatform.llama.generate.SamplingParams;
import io.peftplatform.service.auth.InternalCaller;
import io.peftplatform.service.problem.ApiException;
import io.peftplatform.serving.Completion;
import io.peftplatform.serving.ModelServer;
import io.peftplatform.serving.Prompt;
import io.peftplatform.storage.LocalCache;
import io.peftplatform.storage.ObjectLayout;
import io.peftplatform.text.ChatMessage;
import io.peftplatform.worker.config.WorkerConfig;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;
import jakarta.validation.Valid;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotEmpty;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Generation for the public chat and completions endpoints, which resolved the caller's model name to
 * files in the registry. Answers the choices and token usage, or — streamed — one JSON line per piece
 * of text as it becomes final ({@code {"index", "text"}}), one per finished choice
 * ({@code {"index", "finish_reason"}}) and the usage last.
 */
@Path("/internal/inference")
public class InferenceResource {
  private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();
  @Inject ModelServer server;
  @Inject LocalCache cache;
  @Inject WorkerConfig config;
  @Inject ObjectMapper json;

  /** Exactly one of {@code messages} (chat) and {@code prompt} (completions). */
  public record Request(
      @NotEmpty(message = "are required") List<ObjectRef> modelFiles,
      List<ObjectRef> adapterFiles,
      @Size(min = 1, max = 1000, message = "must hold 1 to 1000 messages") List<@Valid Message> messages,
      @Size(max = 1_000_000) String prompt,
      @Min(value = 1, message = "must be at least 1") Integer maxTokens,
      Double temperature,
      Double topP,
      Long seed,
      @Size(max = 4, message = "may hold up to 4 sequences") List<@NotEmpty(message = "must not be empty") @Size(max = 256) String> stop,
      @Min(value = 1, message = "must be from 1 to 8") @Max(value = 8, message = "must be from 1 to 8") Integer n,
      Boolean stream) {}

  public record Message(@NotNull(message = "is required") String role, @NotNull(message = "is required") @Size(max = 1_000_000) String content) {}

  public record Choice(int index, String text, String finishReason) {}

  public record Usage(int promptTokens, int completionTokens, int totalTokens) {}

  /** {@code loaded} says what this request had to load ("none", "adapter", "model"), for benchmarks and logs. */
  public record Result(List<Choice> choices, Usage usage, String loaded, double firstTokenSeconds) {}

  @POST
  @Consumes(MediaType.APPLICATION_JSON)
  @Blocking
  public Response infer(@Context HttpHeaders headers, @Valid Request r) {
    String tenant = InternalCaller.tenant(headers, config.internalToken());
    if (r == null) {
      throw ApiException.badRequest("a request body is required", null);
    }
    ownedBy(tenant, r.modelFiles(), "model_files");
    if (r.adapterFiles() != null) {
      ownedBy(tenant, r.adapterFiles(), "adapter_files");
    }
    Prompt prompt;
    if ((r.messages() == null) == (r.prompt() == null)) {
      throw ApiException.badRequest("send messages (chat) or a prompt (completions)", r.messages() == null ? "prompt" : "messages");
    } else if (r.messages() != null) {
      List<ChatMessage> messages = new ArrayList<>();
      for (int i = 0; i < r.messages().size(); i++) {
        Message m = r.messages().get(i);
        if (!ChatMessage.ROLES.contains(m.role())) {
          throw ApiException.badRequest("must be system, user, assistant or tool", "messages[" + i + "].role");
        }
        messages.add(new ChatMessage(m.role(), m.content()));
      }
      prompt = new Prompt.Chat(messages);
    } else {
      prompt = new Prompt.Text(r.prompt());
    }
    int maxTokens = r.maxTokens() == null ? config.serving().maxTokens() : r.maxTokens();
    if (maxTokens > config.serving().maxTokens()) {
      throw ApiException.badRequest("must be at most " + config.serving().maxTokens() + " (peft.serving.max-tokens)", "max_tokens");
    }
    SamplingParams params = params(r, maxTokens);
    if (server.waiting() >= config.serving().maxWaiting()) {
      throw ApiException.tooMany("this worker has " + server.waiting() + " generation requests waiting; try again shortly", null,
          "peft.serving.max-waiting", config.serving().maxWaiting());
    }
    java.nio.file.Path modelDir = cache.directory("model", r.modelFiles());
    java.nio.file.Path adapterDir = r.adapterFiles() == null || r.adapterFiles().isEmpty() ? null : cache.directory("adapter", r.adapterFiles());
    Choices choices = new Choices(tenant, modelDir, adapterDir, prompt, params, r.n() == null ? 1 : r.n(), r.stop() == null ? List.of() : r.stop());
    if (!Boolean.TRUE.equals(r.stream())) {
      return Response.ok(choices.generate((index, piece) -> {}, (index, finish) -> {}), MediaType.APPLICATION_JSON).build();
    }
    StreamingOutput body = out -> {
      try {
        Result result = choices.generate((index, piece) -> line(out, Map.of("index", index, "text", piece)),
            (index, finish) -> line(out, Map.of("index", index, "finish_reason", finish)));
        line(out, Map.of("usage", result.usage()));
      } catch (ApiException e) {
        line(out, Map.of("error", e.problem()));
      }
    };
    return Response.ok(body, "application/x-ndjson").build();
  }

  /** The n choices of one request, generated one after another, each with its own seed (so sampled ones differ). */
  private final class Choices {
    final String tenant;
    final java.nio.file.Path modelDir;
    final java.nio.file.Path adapterDir;
    final Prompt prompt;
    final SamplingParams params;
    final int n;
    final List<String> stop;

    Choices(String tenant, java.nio.file.Path modelDir, java.nio.file.Path adapterDir, Prompt prompt, SamplingParams params, int n,
        List<String> stop) {
      this.tenant = tenant;
      this.modelDir = modelDir;
      this.adapterDir = adapterDir;
      this.prompt = prompt;
      this.params = params;
      this.n = n;
      this.stop = stop;
    }

    /** Generates every choice, handing on each piece of text and each choice's finish as they come. */
    Result generate(java.util.function.BiConsumer<Integer, String> onPiece, java.util.function.BiConsumer<Integer, String> onFinish) {
      List<Choice> out = new ArrayList<>();
      int promptTokens = 0;
      int completionTokens = 0;
      String loaded = "none";
      double first = 0;
      for (int i = 0; i < n; i++) {
        int index = i;
        SamplingParams choice = new SamplingParams(params.temperature(), params.topP(), params.seed() + i, params.maxNewTokens());
        Completion c = InferenceResource.this.generate(tenant, modelDir, adapterDir, prompt, choice, stop, piece -> onPiece.accept(index, piece));
        onFinish.accept(i, c.finishReason());
        out.add(new Choice(i, c.text(), c.finishReason()));
        promptTokens = c.promptTokens();
        completionTokens += c.completionTokens();
        if (i == 0) {
          loaded = c.loaded();
          first = c.firstTokenNanos() / 1e9;
        }
      }
      return new Result(out, new Usage(promptTokens, completionTokens, promptTokens + completionTokens), loaded, first);
    }
  }

  private Completion generate(String tenant, java.nio.file.Path modelDir, java.nio.file.Path adapterDir, Prompt prompt, SamplingParams params,
      List<String> stop, java.util.function.Consumer<String> onText) {
    try {
      return server.complete(tenant, modelDir, adapterDir, prompt, params, stop, onText);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiException(503, "generation was interrupted (the worker is stopping); try again", null);
    } catch (ModelException e) {
      throw ApiException.badRequest(e.getMessage(), prompt instanceof Prompt.Chat ? "messages" : "prompt");
    }
  }

  /** The request's sampling (OpenAI's defaults: temperature 1, top_p 1; a random seed unless given). */
  private static SamplingParams params(Request r, int maxTokens) {
    double temperature = r.temperature() == null ? 1.0 : r.temperature();
    double topP = r.topP() == null ? 1.0 : r.topP();
    long seed = r.seed() == null ? RANDOM.nextInt(Integer.MAX_VALUE) : r.seed();
    if (temperature > 2) {
      throw ApiException.badRequest("must be from 0 to 2", "temperature");
    }
    try {
      return new SamplingParams(temperature, topP, seed, maxTokens);
    } catch (IllegalArgumentException e) {
      String field = e.getMessage().startsWith("temperature") ? "temperature" : e.getMessage().startsWith("top-p") ? "top_p" : null;
      throw ApiException.badRequest(e.getMessage(), field);
    }
  }

  private void line(OutputStream out, Object value) {
    try {
      out.write(json.writeValueAsBytes(value));
      out.write('\n');
      out.flush();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e); // the caller went away: stop generating
    }
  }

  /**
   * Only the calling tenant's objects, with real digests (the gateway resolved them from the registry;
   * this guards against a wrong resolution, and the digest becomes part of a cache path).
   */
  private static void ownedBy(String tenant, List<ObjectRef> files, String field) {
    for (int i = 0; i < files.size(); i++) {
      if (!ObjectLayout.isValidRef(files.get(i), tenant)) {
        throw ApiException.badRequest("must be the calling tenant's object with a SHA-256 digest", field + "[" + i + "]");
      }
    }
  }
}

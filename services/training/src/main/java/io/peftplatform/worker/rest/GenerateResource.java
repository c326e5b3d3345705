package io.peftplatform.worker.rest;

import io.peftplatform.events.ObjectRef;
import io.peftplatform.llama.generate.SamplingParams;
import io.peftplatform.service.auth.InternalCaller;
import io.peftplatform.service.problem.ApiException;
import io.peftplatform.storage.ObjectLayout;
import io.peftplatform.worker.config.WorkerConfig;
import io.peftplatform.worker.service.GenerationService;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import java.util.List;

/** Generation, for the gateway's POST /v1/generate (which resolved the ids to files). */
@Path("/internal/generate")
public class GenerateResource {
  @Inject GenerationService generation;
  @Inject WorkerConfig config;

  public record Request(String model, String adapter, String prompt, Integer maxNewTokens, Double temperature, Double topP,
      Long seed, Boolean chat, List<ObjectRef> modelFiles, List<ObjectRef> adapterFiles) {}

  public record Usage(int promptTokens, int completionTokens, int totalTokens) {}

  public record Response(String object, String model, String adapter, String text, String finishReason, Usage usage) {}

  @POST
  @Consumes(MediaType.APPLICATION_JSON)
  @Produces(MediaType.APPLICATION_JSON)
  @Blocking
  public Response generate(@Context HttpHeaders headers, Request r) {
    String tenant = InternalCaller.tenant(headers, config.internalToken());
    if (r == null || r.modelFiles() == null || r.modelFiles().isEmpty()) {
      throw ApiException.badRequest("model files are required", "model_files");
    }
    if (r.prompt() == null || r.prompt().isEmpty()) {
      throw ApiException.badRequest("a prompt is required", "prompt");
    }
    ownedBy(tenant, r.modelFiles(), "model_files");
    if (r.adapterFiles() != null) {
      ownedBy(tenant, r.adapterFiles(), "adapter_files");
    }
    int maxNew = r.maxNewTokens() == null ? 64 : r.maxNewTokens();
    if (maxNew < 1 || maxNew > config.maxNewTokens()) {
      throw ApiException.badRequest("must be from 1 to " + config.maxNewTokens(), "max_new_tokens");
    }
    SamplingParams params;
    try {
      params = new SamplingParams(r.temperature() == null ? 0 : r.temperature(), r.topP() == null ? 1 : r.topP(),
          r.seed() == null ? 0 : r.seed(), maxNew);
    } catch (IllegalArgumentException e) {
      String field = e.getMessage().startsWith("temperature") ? "temperature" : e.getMessage().startsWith("top-p") ? "top_p" : null;
      throw ApiException.badRequest(e.getMessage(), field);
    }
    GenerationService.Completion c = generation.generate(r.modelFiles(), r.adapterFiles(), r.prompt(), Boolean.TRUE.equals(r.chat()), params);
    return new Response("text_completion", r.model(), r.adapter(), c.text(), c.finishReason(),
        new Usage(c.promptTokens(), c.completionTokens(), c.promptTokens() + c.completionTokens()));
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

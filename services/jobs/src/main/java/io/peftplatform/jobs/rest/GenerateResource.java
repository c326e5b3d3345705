package io.peftplatform.jobs.rest;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import io.peftplatform.events.ObjectRef;
import io.peftplatform.jobs.Job;
import io.peftplatform.jobs.ModelRef;
import io.peftplatform.jobs.config.JobsConfig;
import io.peftplatform.jobs.service.ArtifactProjections;
import io.peftplatform.jobs.service.JobService;
import io.peftplatform.service.auth.InternalCaller;
import io.peftplatform.service.problem.ApiException;
import io.peftplatform.service.problem.Problem;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * POST /v1/generate: try a base model, or a trained adapter on it. The model and adapter ids are resolved
 * here (the tenant's own only) to their files, and a training worker generates.
 */
@Path("/v1/generate")
public class GenerateResource {
  static final ObjectMapper JSON = new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  @Inject Callers callers;
  @Inject JobsConfig config;
  @Inject ArtifactProjections projections;

  /** What a client may ask; anything else in the body is refused (unknown fields are errors). */
  public record GenerateRequest(
      @NotBlank(message = "is required: a model id") @Pattern(regexp = "[A-Za-z0-9_-]{1,64}", message = "is not a model id") String model,
      @Pattern(regexp = "[A-Za-z0-9_-]{1,64}", message = "is not an adapter id") String adapter,
      @NotNull(message = "is required: the text to continue") @Size(max = 1_000_000) String prompt,
      Integer maxNewTokens,
      Double temperature,
      Double topP,
      Long seed,
      Boolean chat) {}

  /** What a worker is sent: the request with file lists taken from the registry only. */
  record WorkerRequest(String model, String adapter, String prompt, Integer maxNewTokens, Double temperature, Double topP,
      Long seed, Boolean chat, List<ObjectRef> modelFiles, List<ObjectRef> adapterFiles) {}

  @POST
  @Consumes(MediaType.APPLICATION_JSON)
  @Produces(MediaType.APPLICATION_JSON)
  public Response generate(@Context HttpHeaders headers, @Valid GenerateRequest body) throws IOException, InterruptedException {
    String tenant = callers.tenant(headers);
    if (body == null) {
      throw ApiException.badRequest("a JSON body {\"model\": …, \"prompt\": …} is required", "model");
    }
    projections.awaitValidated(tenant, body.model(), "model");
    WorkerRequest request = resolve(tenant, body);
    HttpRequest forward = HttpRequest.newBuilder(URI.create(config.trainingUrl() + "/internal/generate"))
        .header("Content-Type", "application/json")
        .header(InternalCaller.TOKEN, config.internalToken())
        .header(InternalCaller.TENANT, tenant)
        .timeout(Duration.ofMinutes(10))
        .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(request)))
        .build();
    HttpResponse<String> r;
    try {
      r = http.send(forward, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      return Problem.of(503, "no training worker is reachable for generation; try again shortly", null).toResponse();
    }
    String type = r.headers().firstValue("Content-Type").orElse(MediaType.APPLICATION_JSON);
    return Response.status(r.statusCode()).type(type).entity(r.body()).build();
  }

  @Transactional
  WorkerRequest resolve(String tenant, GenerateRequest body) {
    String modelId = body.model();
    ModelRef model = ModelRef.<ModelRef>find("id = ?1 and tenant = ?2", modelId, tenant).firstResultOptional()
        .orElseThrow(() -> ApiException.notFound("no model " + modelId, "model"));
    if (!model.status.equals("ready")) {
      throw ApiException.conflict("model " + modelId + " is " + model.status);
    }
    List<ObjectRef> adapterFiles = null;
    if (body.adapter() != null) {
      String adapterId = body.adapter();
      Optional<Job> job = Job.<Job>find("fineTunedModel = ?1 and tenant = ?2", adapterId, tenant).firstResultOptional()
          .filter(j -> j.adapterFiles != null);
      // An adapter no job here trained (a merge made it) is looked up in the registry.
      JsonNode merged = job.isPresent() ? null : projections.adapterFiles(tenant, adapterId, "adapter");
      String base = job.map(j -> j.modelId).orElseGet(() -> merged.path("model_id").asText());
      if (!base.equals(modelId)) {
        throw ApiException.badRequest("adapter " + adapterId + " belongs to model " + base + ", not " + modelId, "adapter");
      }
      adapterFiles = job.isPresent() ? JobService.refs(job.get().adapterFiles)
          : JSON.convertValue(merged.path("files"), new TypeReference<List<ObjectRef>>() {});
    }
    return new WorkerRequest(modelId, body.adapter(), body.prompt(), body.maxNewTokens(), body.temperature(), body.topP(), body.seed(),
        body.chat(), JobService.refs(model.files), adapterFiles);
  }
}

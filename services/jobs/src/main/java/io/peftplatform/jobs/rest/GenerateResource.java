package io.peftplatform.jobs.rest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import java.util.Optional;

/**
 * POST /v1/generate: try a base model, or a trained adapter on it. The model and adapter ids are resolved
 * here (the tenant's own only) to their files, and a training worker generates.
 */
@Path("/v1/generate")
public class GenerateResource {
  static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  @Inject Callers callers;
  @Inject JobsConfig config;
  @Inject ArtifactProjections projections;

  @POST
  @Consumes(MediaType.APPLICATION_JSON)
  @Produces(MediaType.APPLICATION_JSON)
  public Response generate(@Context HttpHeaders headers, JsonNode body) throws IOException, InterruptedException {
    String tenant = callers.tenant(headers);
    if (body != null && body.path("model").isTextual()) {
      projections.awaitValidated(tenant, body.get("model").asText(), "model");
    }
    ObjectNode request = resolve(tenant, body);
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
  ObjectNode resolve(String tenant, JsonNode body) {
    if (body == null || !body.isObject()) {
      throw ApiException.badRequest("the request body must be a JSON object", null);
    }
    if (!body.path("model").isTextual()) {
      throw ApiException.badRequest("is required: a model id", "model");
    }
    if (!body.path("prompt").isTextual()) {
      throw ApiException.badRequest("is required: the text to continue", "prompt");
    }
    String modelId = body.get("model").asText();
    ModelRef model = ModelRef.<ModelRef>find("id = ?1 and tenant = ?2", modelId, tenant).firstResultOptional()
        .orElseThrow(() -> ApiException.notFound("no model " + modelId, "model"));
    if (!model.status.equals("ready")) {
      throw ApiException.conflict("model " + modelId + " is " + model.status);
    }
    ObjectNode out = ((ObjectNode) body).deepCopy();
    out.set("model_files", JSON.valueToTree(JobService.refs(model.files)));
    if (body.hasNonNull("adapter")) {
      String adapterId = body.get("adapter").asText();
      Optional<Job> job = Job.<Job>find("fineTunedModel = ?1 and tenant = ?2", adapterId, tenant).firstResultOptional()
          .filter(j -> j.adapterFiles != null);
      // An adapter no job here trained (a merge made it) is looked up in the registry.
      JsonNode merged = job.isPresent() ? null : projections.adapterFiles(tenant, adapterId, "adapter");
      String base = job.map(j -> j.modelId).orElseGet(() -> merged.path("model_id").asText());
      if (!base.equals(modelId)) {
        throw ApiException.badRequest("adapter " + adapterId + " belongs to model " + base + ", not " + modelId, "adapter");
      }
      out.set("adapter_files", job.isPresent() ? JSON.valueToTree(JobService.refs(job.get().adapterFiles)) : merged.path("files"));
    }
    return out;
  }
}

package io.peftplatform.jobs.service;

import io.peftplatform.jobs.DatasetRef;
import io.peftplatform.jobs.ModelRef;
import io.peftplatform.jobs.config.JobsConfig;
import io.peftplatform.service.auth.InternalCaller;
import io.peftplatform.service.problem.ApiException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.io.IOException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * This service's copies of models and datasets arrive as events from the artifacts service, a moment
 * after each upload. A request naming an id not copied yet asks the artifacts service whether it exists:
 * if not, the request is refused at once; if so, it waits (briefly) for the copy to arrive.
 */
@ApplicationScoped
public class ArtifactProjections {
  private static final Duration PATIENCE = Duration.ofSeconds(30);
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @Inject JobsConfig config;

  /** The artifact kinds a request can name. */
  public enum Kind {
    MODEL("models", "model"),
    DATASET("files", "file");

    final String path;
    final String noun;

    Kind(String path, String noun) {
      this.path = path;
      this.noun = noun;
    }
  }

  /** Returns once the tenant's model or dataset is known here; refuses (naming the field) when it does not exist. */
  public void awaitKnown(String tenant, Kind kind, String id, String field) {
    if (known(tenant, kind, id)) {
      return;
    }
    if (!existsInArtifacts(tenant, kind, id)) {
      throw ApiException.badRequest("no " + kind.noun + " " + id, field);
    }
    if (waitUntil(() -> known(tenant, kind, id))) {
      return;
    }
    throw new ApiException(503, kind.noun + " " + id + " was registered moments ago and is not visible to jobs yet; retry shortly", field);
  }

  /**
   * Returns once the tenant's model is known here and past validation, or after a short wait: a model
   * the artifacts service has just declared ready may not be ready in this projection yet.
   */
  public void awaitValidated(String tenant, String modelId, String field) {
    awaitKnown(tenant, Kind.MODEL, modelId, field);
    waitUntil(() -> !validating(tenant, modelId));
  }

  /**
   * Returns once the tenant's model is known here, and — when this copy still says it validates but the
   * registry says it no longer does — once the copy has caught up: a client that saw the model fail or
   * become ready gets a job decided on that, not on an older copy. A model still validating is waited
   * for by the job itself (validating_files), not here.
   */
  public void awaitModelSettled(String tenant, String modelId, String field) {
    awaitKnown(tenant, Kind.MODEL, modelId, field);
    if (!validating(tenant, modelId)) {
      return;
    }
    HttpResponse<String> r = getFromArtifacts(tenant, "/v1/models/" + modelId);
    try {
      if (r.statusCode() == 200 && !"validating".equals(JSON.readTree(r.body()).path("status").asText())) {
        waitUntil(() -> !validating(tenant, modelId));
      }
    } catch (IOException e) {
      // the copy decides, as it would have
    }
  }

  /** Polls until the condition holds (true) or {@link #PATIENCE} has passed (false). */
  private static boolean waitUntil(BooleanSupplier condition) {
    long deadline = System.nanoTime() + PATIENCE.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return true;
  }

  @Transactional(Transactional.TxType.REQUIRES_NEW)
  boolean validating(String tenant, String modelId) {
    return ModelRef.count("id = ?1 and tenant = ?2 and status = 'validating'", modelId, tenant) > 0;
  }

  @Transactional(Transactional.TxType.REQUIRES_NEW)
  boolean known(String tenant, Kind kind, String id) {
    return switch (kind) {
      case MODEL -> ModelRef.count("id = ?1 and tenant = ?2", id, tenant) > 0;
      case DATASET -> DatasetRef.count("id = ?1 and tenant = ?2", id, tenant) > 0;
    };
  }

  /**
   * An adapter the jobs service did not train (a merge made it): its base model and files, from the
   * artifacts service; refuses, naming the field, when the tenant has no such adapter.
   */
  public JsonNode adapterFiles(String tenant, String id, String field) {
    if (!id.matches("[A-Za-z0-9_-]{1,100}")) {
      throw ApiException.notFound("no adapter " + id, field);
    }
    HttpResponse<String> r = getFromArtifacts(tenant, "/internal/adapters/" + id);
    if (r.statusCode() == 404) {
      throw ApiException.notFound("no adapter " + id, field);
    }
    if (r.statusCode() != 200) {
      throw new ApiException(503, "the artifacts service answered " + r.statusCode() + "; retry shortly", null);
    }
    try {
      return JSON.readTree(r.body());
    } catch (IOException e) {
      throw new ApiException(503, "the artifacts service answered " + e.getMessage() + "; retry shortly", null);
    }
  }

  private boolean existsInArtifacts(String tenant, Kind kind, String id) {
    if (!id.matches("[A-Za-z0-9_-]{1,100}")) {
      return false;
    }
    int status = getFromArtifacts(tenant, "/v1/" + kind.path + "/" + id).statusCode();
    if (status == 404) {
      return false;
    }
    if (status == 200) {
      return true;
    }
    throw new ApiException(503, "the artifacts service answered " + status + "; retry shortly", null);
  }

  /** A GET to the artifacts service as the tenant; 503 for the caller when it cannot be reached. */
  private HttpResponse<String> getFromArtifacts(String tenant, String path) {
    HttpRequest request = HttpRequest.newBuilder(URI.create(config.artifactsUrl() + path))
        .header(InternalCaller.TOKEN, config.internalToken())
        .header(InternalCaller.TENANT, tenant)
        .timeout(Duration.ofSeconds(10))
        .GET().build();
    try {
      return http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new ApiException(503, "the artifacts service is not reachable; retry shortly", null);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiException(503, "interrupted", null);
    }
  }
}

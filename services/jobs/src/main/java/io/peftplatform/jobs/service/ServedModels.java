package io.peftplatform.jobs.service;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftplatform.events.ObjectRef;
import io.peftplatform.jobs.Job;
import io.peftplatform.jobs.ModelRef;
import io.peftplatform.service.problem.ApiException;
import io.peftplatform.service.problem.RequestValues;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.util.List;
import java.util.Optional;

/**
 * What a request's {@code model} names, resolved to files in the tenant's registry: a base or merged
 * model ({@code model-…}), or a fine-tuned model — an adapter, by its id or an OpenAI-style
 * {@code ft:…:adapter-…} name — on its base. Another tenant's names read as unknown (404).
 */
@ApplicationScoped
public class ServedModels {
  @Inject ArtifactProjections projections;
  @Inject ObjectMapper json;

  /** A model to serve: the base's files, and the adapter's when it is a fine-tuned one. */
  public record Target(String baseModel, List<ObjectRef> modelFiles, String adapter, List<ObjectRef> adapterFiles) {}

  public Target resolve(String tenant, String name) {
    if (name == null || name.isBlank()) {
      throw ApiException.badRequest("is required: a model id or a fine-tuned model's id", "model");
    }
    String id = RequestValues.modelId(name);
    if (!RequestValues.isId(id)) {
      throw ApiException.notFound("no model of that name", "model");
    }
    if (!RequestValues.isFineTuned(id)) {
      try {
        projections.awaitValidated(tenant, id, "model");
      } catch (ApiException e) {
        // In a request body an unknown id is a bad request; as the model to serve it is a resource not found, as OpenAI answers.
        throw e.problem().status() == 400 ? ApiException.notFound(e.getMessage(), "model") : e;
      }
      return new Target(id, readyModel(tenant, id).files(), null, null);
    }
    Adapter a = adapter(tenant, id);
    return new Target(a.baseModel(), readyModel(tenant, a.baseModel()).files(), id, a.files());
  }

  private record Files(List<ObjectRef> files) {}

  private record Adapter(String baseModel, List<ObjectRef> files) {}

  @Transactional
  Files readyModel(String tenant, String id) {
    ModelRef model = ModelRef.<ModelRef>find("id = ?1 and tenant = ?2", id, tenant).firstResultOptional()
        .orElseThrow(() -> ApiException.notFound("no model " + id, "model"));
    if (!model.status.equals("ready")) {
      throw ApiException.conflict("model " + id + " is " + model.status + ", not ready");
    }
    return new Files(JobJson.refs(model.files));
  }

  /** An adapter a job here trained, or else one the registry has (a merge made it). */
  Adapter adapter(String tenant, String id) {
    Optional<Job> job = trainedBy(tenant, id);
    if (job.isPresent()) {
      return new Adapter(job.get().modelId, JobJson.refs(job.get().adapterFiles));
    }
    JsonNode merged = projections.adapterFiles(tenant, id, "model");
    return new Adapter(merged.path("model_id").asText(), json.convertValue(merged.path("files"), new TypeReference<List<ObjectRef>>() {}));
  }

  @Transactional
  Optional<Job> trainedBy(String tenant, String adapterId) {
    return Job.<Job>find("fineTunedModel = ?1 and tenant = ?2", adapterId, tenant).firstResultOptional().filter(j -> j.adapterFiles != null);
  }
}

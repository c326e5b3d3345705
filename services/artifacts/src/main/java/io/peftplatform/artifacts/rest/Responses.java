package io.peftplatform.artifacts.rest;

import com.fasterxml.jackson.databind.JsonNode;
import io.peftplatform.artifacts.Adapter;
import io.peftplatform.artifacts.Dataset;
import io.peftplatform.artifacts.Merge;
import io.peftplatform.artifacts.Model;
import io.peftplatform.artifacts.service.Json;
import io.peftplatform.artifacts.service.ModelCatalog;
import io.peftplatform.artifacts.service.Page;
import io.peftplatform.events.ObjectRef;
import io.peftplatform.service.page.ListPage;
import io.peftplatform.storage.ObjectLayout;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** What the API returns (snake_case JSON): entities never leave the service. */
public final class Responses {
  private Responses() {}

  public record FileInfo(String name, long bytes, String sha256) {
    static List<FileInfo> of(List<ObjectRef> refs) {
      return refs.stream().map(r -> new FileInfo(ObjectLayout.fileName(r.key()), r.bytes(), r.sha256())).toList();
    }
  }

  public record ErrorInfo(String code, String message) {}

  /** What {@code /v1/models} lists: OpenAI's model object, of either kind. */
  public sealed interface ModelObject permits ModelResponse, FineTunedModelResponse {
    String id();
  }

  /**
   * OpenAI's model object ({@code id, object, created, owned_by}) with the registry's extensions: its
   * name, status (a model answers requests once {@code ready}), source, architecture, size and files.
   */
  public record ModelResponse(String id, String object, long created, String ownedBy, String name, String status, String source,
      String architecture, Long parameters, List<FileInfo> files, ErrorInfo error) implements ModelObject {
    static ModelResponse of(Model m) {
      return new ModelResponse(m.id, "model", m.createdAt.getEpochSecond(), m.tenant, m.name, m.status, m.source, m.architecture,
          m.parameters, FileInfo.of(Json.refs(m.files)), m.errorCode == null ? null : new ErrorInfo(m.errorCode, m.errorMessage));
    }
  }

  /**
   * A fine-tuned model as OpenAI lists it: an adapter, served on its base model ({@code parent} and
   * {@code root}, as vLLM and LoRAX name them), with the job or merge that made it.
   */
  public record FineTunedModelResponse(String id, String object, long created, String ownedBy, String parent, String root,
      String status, String method, String jobId, String mergeId) implements ModelObject {
    static FineTunedModelResponse of(Adapter a) {
      return new FineTunedModelResponse(a.id, "model", a.createdAt.getEpochSecond(), a.tenant, a.modelId, a.modelId, "ready",
          a.method, a.jobId, a.mergeId);
    }
  }

  static ModelObject of(ModelCatalog.Entry e) {
    return e.model() != null ? ModelResponse.of(e.model()) : FineTunedModelResponse.of(e.adapter());
  }

  /**
   * OpenAI's file object ({@code id, object, bytes, created_at, filename, purpose, status}) with what the
   * registry knows of a dataset as extensions: its format, rows, token estimate, digest and first records.
   */
  public record DatasetResponse(String id, String object, long bytes, long createdAt, String filename, String purpose, String status,
      String format, long rows, long tokenEstimate, String sha256, JsonNode preview) {
    static DatasetResponse of(Dataset d, boolean withPreview) {
      return new DatasetResponse(d.id, "file", d.bytes, d.createdAt.getEpochSecond(), d.name, "fine-tune",
          d.status.equals("ready") ? "processed" : d.status, d.format, d.rows, d.tokenEstimate, d.sha256,
          withPreview ? Json.tree(d.preview) : null);
    }
  }

  public record AdapterResponse(String id, String object, String jobId, String mergeId, String modelId, String method,
      long parameters, Map<String, Object> metrics, JsonNode lineage, List<FileInfo> files, long createdAt) {
    static AdapterResponse of(Adapter a, boolean withLineage) {
      return new AdapterResponse(a.id, "adapter", a.jobId, a.mergeId, a.modelId, a.method, a.parameters, Json.map(a.metrics),
          withLineage ? Json.tree(a.lineage) : null, FileInfo.of(Json.refs(a.files)), a.createdAt.getEpochSecond());
    }
  }

  public record MergeResponse(String id, String object, String name, String status, String model, JsonNode adapters,
      String method, Double density, Long seed, String outputType, Integer rank, String outputId, long createdAt,
      Long finishedAt, ErrorInfo error, String config, JsonNode hyperparameters, String calibrationFile, JsonNode progress,
      Boolean cancelRequested) {
    static MergeResponse of(Merge m) {
      boolean random = m.method.startsWith("dare") || m.method.startsWith("della");
      boolean fromConfig = m.config != null;
      boolean learned = m.hyperparameters != null;
      return new MergeResponse(m.id, "merge", m.name, m.status, m.modelId, Json.tree(m.adapters), m.method,
          !fromConfig && (m.method.equals("ties") || random) ? m.density : null, random || learned ? m.seed : null, m.outputType, m.rank,
          m.status.equals(Merge.SUCCEEDED) ? m.outputId : null, m.createdAt.getEpochSecond(),
          m.finishedAt == null ? null : m.finishedAt.getEpochSecond(),
          m.errorCode == null ? null : new ErrorInfo(m.errorCode, m.errorMessage), m.config,
          learned ? Json.tree(m.hyperparameters) : null, m.calibrationFile, m.progress == null ? null : Json.tree(m.progress),
          learned ? m.cancelRequested : null);
    }
  }

  /** A page of the registry as the API lists it. */
  static <E, T> ListPage<T> page(Page<E> page, Function<E, T> map, Function<T, String> id) {
    return ListPage.of(page.items().stream().map(map).toList(), page.hasMore(), id);
  }

  public record DeletedResponse(String id, String object, boolean deleted) {}

  public record FileUrl(String name, long bytes, String sha256, String url) {}
}

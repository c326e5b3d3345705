package io.peftplatform.artifacts.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.peftplatform.artifacts.Adapter;
import io.peftplatform.artifacts.Ids;
import io.peftplatform.artifacts.Merge;
import io.peftplatform.artifacts.Model;
import io.peftplatform.events.EventCodec;
import io.peftplatform.events.MergeFailed;
import io.peftplatform.events.MergeRequested;
import io.peftplatform.events.MergeSucceeded;
import io.peftplatform.events.Topics;
import io.peftplatform.merge.config.MergeConfig;
import io.peftplatform.merge.config.MergeConfigException;
import io.peftplatform.service.inbox.Inbox;
import io.peftplatform.service.outbox.Outbox;
import io.peftplatform.service.problem.ApiException;
import io.peftplatform.service.problem.KnownFields;
import io.peftplatform.service.problem.RequestValues;
import io.peftplatform.storage.ObjectLayout;
import io.peftplatform.storage.ObjectStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Merges (docs/merging.md): a request is validated against the registry (the tenant's own ready model
 * and adapters trained on it), recorded and sent to the merging workers through the outbox; the
 * outcome registers the output as a model (announced like any model, so it can be fine-tuned and
 * tried) or as an adapter.
 */
@ApplicationScoped
public class MergeService {
  static final Set<String> METHODS = Set.of("linear", "task_arithmetic", "ties", "dare_linear", "dare_ties");
  static final int MAX_ADAPTERS = 16;
  static final Set<String> FIELDS = Set.of("model", "adapters", "method", "density", "seed", "output", "name", "config");
  static final int MAX_CONFIG_CHARS = 65_536;
  static final int MAX_CONFIG_MODELS = 16;

  @Inject Outbox outbox;
  @Inject Inbox inbox;
  @Inject ObjectStore store;
  @Inject ModelService models;

  /** A request as the API takes it (validated here, field by field). */
  @Transactional
  public Merge create(String tenant, JsonNode body) {
    if (body == null || !body.isObject()) {
      throw ApiException.badRequest("the request body must be a JSON object", null);
    }
    // The request's own form first (every field, whatever the registry holds), then the registry.
    KnownFields.check(body, "", FIELDS);
    if (body.has("config")) {
      return createFromConfig(tenant, body);
    }
    String modelId = RequestValues.id(text(body, "model", "is required: the id of the base model the adapters were trained on"), "model");
    JsonNode list = body.path("adapters");
    if (!list.isArray() || list.isEmpty() || list.size() > MAX_ADAPTERS) {
      throw ApiException.badRequest("must list 1 to " + MAX_ADAPTERS + " adapters: [{\"id\": …, \"weight\": …}]", "adapters");
    }
    List<String> ids = new ArrayList<>();
    List<Double> weights = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      JsonNode item = list.get(i);
      String field = "adapters[" + i + "]";
      KnownFields.check(item, field + ".", Set.of("id", "weight"));
      String id = item.isTextual() ? item.asText() : item.path("id").isTextual() ? item.path("id").asText() : "";
      if (id.isEmpty()) {
        throw ApiException.badRequest("is required: an adapter id", field + ".id");
      }
      RequestValues.id(id, field + ".id");
      JsonNode w = item.path("weight");
      if (!w.isMissingNode() && !w.isNull() && !(w.isNumber() && Double.isFinite(w.asDouble()))) {
        throw ApiException.badRequest("must be a finite number", field + ".weight");
      }
      ids.add(id);
      weights.add(w.isNumber() ? w.asDouble() : 1.0);
    }
    JsonNode methodNode = body.path("method");
    String method = methodNode.isMissingNode() || methodNode.isNull() ? "task_arithmetic" : methodNode.isTextual() ? methodNode.asText() : "";
    if (!METHODS.contains(method)) {
      throw ApiException.badRequest("must be one of linear, task_arithmetic, ties, dare_linear, dare_ties", "method");
    }
    if (method.equals("linear") && weights.stream().mapToDouble(Double::doubleValue).sum() == 0) {
      throw ApiException.badRequest("a linear merge divides by the sum of the weights, which is 0", "adapters");
    }
    JsonNode d = body.path("density");
    double density = d.isNumber() ? d.asDouble() : 0.5;
    if (!d.isMissingNode() && !d.isNull() && !(d.isNumber() && density > 0 && density <= 1)) {
      throw ApiException.badRequest("must be a number in (0, 1]", "density");
    }
    long seed = seed(body);
    JsonNode output = body.path("output");
    if (!output.isMissingNode() && !output.isNull() && !output.isObject()) {
      throw ApiException.badRequest("must be an object {\"type\": \"model\" | \"adapter\", \"rank\": …}", "output");
    }
    KnownFields.check(output, "output.", Set.of("type", "rank"));
    String type = output.path("type").isMissingNode() || output.path("type").isNull() ? "model" : output.path("type").asText("");
    Integer rank = null;
    if (type.equals("adapter")) {
      JsonNode r = output.path("rank");
      if (!r.isIntegralNumber() || !r.canConvertToInt() || r.asInt() < 1 || r.asInt() > 4096) {
        throw ApiException.badRequest("is required for an adapter: its LoRA rank, 1 to 4096", "output.rank");
      }
      rank = r.asInt();
    } else if (!type.equals("model")) {
      throw ApiException.badRequest("must be model or adapter", "output.type");
    }
    String name = name(body);

    Model model = models.find(tenant, modelId).orElseThrow(() -> ApiException.badRequest("no model " + modelId, "model"));
    if (!model.status.equals(Model.READY)) {
      throw ApiException.badRequest("model " + modelId + " is " + model.status + ", not ready", "model");
    }
    List<MergeRequested.Input> inputs = new ArrayList<>();
    ArrayNode recorded = Json.MAPPER.createArrayNode();
    for (int i = 0; i < ids.size(); i++) {
      String id = ids.get(i);
      String field = "adapters[" + i + "].id";
      Adapter a = Adapter.<Adapter>find("id = ?1 and tenant = ?2", id, tenant).firstResultOptional()
          .orElseThrow(() -> ApiException.badRequest("no adapter " + id, field));
      if (!a.modelId.equals(modelId)) {
        throw ApiException.badRequest("adapter " + id + " belongs to model " + a.modelId + ", not " + modelId, field);
      }
      inputs.add(new MergeRequested.Input(id, Json.refs(a.files), weights.get(i)));
      recorded.addObject().put("id", id).put("weight", weights.get(i));
    }

    Merge m = new Merge();
    m.id = Ids.next("merge");
    m.tenant = tenant;
    m.status = Merge.QUEUED;
    m.modelId = modelId;
    m.adapters = Json.write(recorded);
    m.method = method;
    m.density = density;
    m.seed = seed;
    m.outputType = type;
    m.rank = rank;
    m.outputId = Ids.next(type.equals("model") ? "model" : "adapter");
    m.name = name != null ? name : truncate(model.name + " (" + method + " of " + inputs.size() + ")", 256);
    m.createdAt = Instant.now();
    m.persist();
    outbox.add(Topics.MERGE_COMMANDS, new MergeRequested(EventCodec.newId(), m.createdAt, m.id, tenant, modelId,
        Json.refs(model.files), inputs, method, density, m.seed, rank == null ? 0 : rank, m.outputId, null, List.of()));
    return m;
  }

  /**
   * A whole-model merge from a mergekit configuration (docs/merging.md) whose models are the tenant's
   * registered ids: {@code model-…}, or {@code model-…+adapter-…} for an adapter of that model folded in.
   * The configuration is read here (its errors are the request's); what only the checkpoints can tell —
   * shapes, per-tensor parameters — fails the merge with the reason.
   */
  private Merge createFromConfig(String tenant, JsonNode body) {
    for (String f : List.of("model", "adapters", "method", "density", "output")) {
      if (body.has(f)) {
        throw ApiException.badRequest("a merge with a config names its models and method there: leave this out", f);
      }
    }
    JsonNode c = body.path("config");
    String text;
    if (c.isTextual()) {
      text = c.asText();
    } else if (c.isObject()) {
      text = Json.write(c); // JSON is YAML
    } else {
      throw ApiException.badRequest("must be mergekit's YAML as a string, or the same as a JSON object", "config");
    }
    if (text.length() > MAX_CONFIG_CHARS) {
      throw ApiException.badRequest("must be at most " + MAX_CONFIG_CHARS + " characters", "config");
    }
    MergeConfig config;
    try {
      config = MergeConfig.parse(text);
    } catch (MergeConfigException e) {
      throw ApiException.badRequest(e.getMessage(), "config");
    }
    List<String> names = config.referencedModels();
    if (names.size() > MAX_CONFIG_MODELS) {
      throw ApiException.badRequest("names " + names.size() + " models; at most " + MAX_CONFIG_MODELS, "config");
    }
    String tokenizer = config.tokenizerSource();
    if (tokenizer != null && !tokenizer.equals("base") && !names.contains(tokenizer)) {
      throw ApiException.badRequest("tokenizer_source: must be base or one of the merge's models", "config");
    }
    long seed = seed(body);
    String name = name(body);

    java.util.Map<String, MergeRequested.Registered> registered = new java.util.LinkedHashMap<>();
    Model base = null;
    for (String ref : names) {
      int plus = ref.indexOf('+');
      String modelId = plus < 0 ? ref : ref.substring(0, plus);
      String adapterId = plus < 0 ? null : ref.substring(plus + 1);
      if (!RequestValues.isId(modelId) || !modelId.startsWith("model-") || (adapterId != null
          && (!RequestValues.isId(adapterId) || !adapterId.startsWith("adapter-")))) {
        throw ApiException.badRequest(ref + ": not a registered model id (model-…) or model-…+adapter-…", "config");
      }
      Model model = models.find(tenant, modelId).orElseThrow(() -> ApiException.badRequest("no model " + modelId, "config"));
      if (!model.status.equals(Model.READY)) {
        throw ApiException.badRequest("model " + modelId + " is " + model.status + ", not ready", "config");
      }
      if (base == null) {
        base = model; // the base model, or the first one named
      }
      registered.putIfAbsent(modelId, new MergeRequested.Registered(modelId, Json.refs(model.files)));
      if (adapterId != null) {
        Adapter a = Adapter.<Adapter>find("id = ?1 and tenant = ?2", adapterId, tenant).firstResultOptional()
            .orElseThrow(() -> ApiException.badRequest("no adapter " + adapterId, "config"));
        if (!a.modelId.equals(modelId)) {
          throw ApiException.badRequest("adapter " + adapterId + " belongs to model " + a.modelId + ", not " + modelId, "config");
        }
        registered.putIfAbsent(adapterId, new MergeRequested.Registered(adapterId, Json.refs(a.files)));
      }
    }

    Merge m = new Merge();
    m.id = Ids.next("merge");
    m.tenant = tenant;
    m.status = Merge.QUEUED;
    m.modelId = base.id;
    m.adapters = "[]";
    m.method = config.method().configName();
    m.density = 0;
    m.seed = seed;
    m.outputType = "model";
    m.outputId = Ids.next("model");
    m.config = text;
    m.name = name != null ? name : truncate(base.name + " (" + m.method + " of " + names.size() + " models)", 256);
    m.createdAt = Instant.now();
    m.persist();
    outbox.add(Topics.MERGE_COMMANDS, new MergeRequested(EventCodec.newId(), m.createdAt, m.id, tenant, base.id, Json.refs(base.files),
        List.of(), m.method, 0, m.seed, 0, m.outputId, text, List.copyOf(registered.values())));
    return m;
  }

  /** The request's seed (0 when absent). */
  private static long seed(JsonNode body) {
    JsonNode s = body.path("seed");
    if (!s.isMissingNode() && !s.isNull() && !(s.isIntegralNumber() && s.canConvertToLong())) {
      throw ApiException.badRequest("must be an integer", "seed");
    }
    return s.asLong(0);
  }

  /** The request's name for the output, or null for the default. */
  private static String name(JsonNode body) {
    JsonNode name = body.path("name");
    if (!name.isMissingNode() && !name.isNull() && !(name.isTextual() && !name.asText().isBlank() && name.asText().length() <= 256)) {
      throw ApiException.badRequest("must be a non-blank string of at most 256 characters", "name");
    }
    return RequestValues.name(name.isTextual() ? name.asText() : null, "name");
  }

  private static String truncate(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max);
  }

  private static String text(JsonNode body, String field, String problem) {
    JsonNode v = body.path(field);
    if (!v.isTextual() || v.asText().isBlank()) {
      throw ApiException.badRequest(problem, field);
    }
    return v.asText();
  }

  @Transactional
  public void onSucceeded(MergeSucceeded e) {
    if (!inbox.firstTime(e)) {
      return;
    }
    Merge m = Merge.findById(e.aggregateId());
    if (m == null || !m.status.equals(Merge.QUEUED)) {
      return;
    }
    if (e.output().equals("model")) {
      models.registerMerged(m.outputId, m.tenant, m.name, "merge:" + m.id, e.architecture(), e.parameters(), e.files());
    } else {
      Adapter a = new Adapter();
      a.id = m.outputId;
      a.tenant = m.tenant;
      a.mergeId = m.id;
      a.modelId = m.modelId;
      a.method = "lora";
      a.parameters = e.parameters();
      a.files = Json.write(e.files());
      a.metrics = "{}";
      a.lineage = e.files().stream().filter(f -> ObjectLayout.fileName(f.key()).equals("peft_merge.json")).findFirst()
          .map(f -> store.readText(f.key())).orElse("{}");
      a.createdAt = e.time();
      a.persist();
    }
    m.status = Merge.SUCCEEDED;
    m.finishedAt = e.time();
  }

  @Transactional
  public void onFailed(MergeFailed e) {
    if (!inbox.firstTime(e)) {
      return;
    }
    Merge m = Merge.findById(e.aggregateId());
    if (m == null || !m.status.equals(Merge.QUEUED)) {
      return;
    }
    m.status = Merge.FAILED;
    m.errorCode = e.code();
    m.errorMessage = e.message();
    m.finishedAt = e.time();
  }

  /** An outcome of the merge that can never be applied: the merge fails with the reason instead of staying queued. */
  @Transactional(Transactional.TxType.REQUIRES_NEW)
  public void failForUnreadableOutcome(String mergeId, String reason) {
    Merge m = Merge.findById(mergeId);
    if (m != null && m.status.equals(Merge.QUEUED)) {
      m.status = Merge.FAILED;
      m.errorCode = "internal_error";
      m.errorMessage = "the merge's outcome could not be applied: " + reason;
      m.finishedAt = Instant.now();
    }
  }

  public Merge get(String tenant, String id) {
    return Merge.<Merge>find("id = ?1 and tenant = ?2", id, tenant).firstResultOptional()
        .orElseThrow(() -> ApiException.notFound("no merge " + id, "id"));
  }

  public Page<Merge> list(String tenant, String after, int limit) {
    return Page.of(Merge.class, tenant, after, limit, m -> m.createdAt, m -> m.id);
  }
}

package io.peftplatform.artifacts.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftplatform.artifacts.Adapter;
import io.peftplatform.artifacts.Dataset;
import io.peftplatform.artifacts.Ids;
import io.peftplatform.artifacts.Merge;
import io.peftplatform.artifacts.Model;
import io.peftplatform.events.EventCodec;
import io.peftplatform.events.MergeCancelRequested;
import io.peftplatform.events.MergeCancelled;
import io.peftplatform.events.MergeFailed;
import io.peftplatform.events.MergeProgressed;
import io.peftplatform.events.MergeRequested;
import io.peftplatform.events.MergeSucceeded;
import io.peftplatform.events.ObjectRef;
import io.peftplatform.events.PlatformEvent;
import io.peftplatform.events.Topics;
import io.peftplatform.merge.config.LearnedMergeSpec;
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
 * and adapters trained on it, and for a learned merge its calibration datasets), recorded and sent to
 * the merging workers through the outbox; a learned merge's progress is recorded as it comes and it can
 * be cancelled; the outcome registers the output as a model (announced like any model, so it can be
 * fine-tuned and tried) or as an adapter.
 */
@ApplicationScoped
public class MergeService {
  static final Set<String> METHODS = Set.of("linear", "task_arithmetic", "ties", "dare_linear", "dare_ties");
  static final int MAX_ADAPTERS = 16;
  static final Set<String> FIELDS = Set.of("model", "adapters", "method", "density", "seed", "output", "name", "config", "hyperparameters",
      "calibration_file");
  static final int MAX_CONFIG_CHARS = 65_536;
  static final int MAX_CONFIG_MODELS = 16;

  @Inject Outbox outbox;
  @Inject Inbox inbox;
  @Inject ObjectStore store;
  @Inject ModelService models;
  @Inject DatasetService datasets;

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
    if (body.path("method").isTextual() && LearnedMergeSpec.Method.isLearned(body.path("method").asText())) {
      return createLearned(tenant, body, LearnedMergeSpec.Method.byName(body.path("method").asText()));
    }
    for (String f : List.of("hyperparameters", "calibration_file")) {
      if (body.has(f)) {
        throw ApiException.badRequest("is for the learned merges (method expert_merging or ada_merging)", f);
      }
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
      throw ApiException.badRequest("must be one of linear, task_arithmetic, ties, dare_linear, dare_ties, or learned: expert_merging,"
          + " ada_merging", "method");
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
    Integer rank = outputRank(body);
    String name = name(body);

    Model model = readyModel(tenant, modelId, "model");
    List<MergeRequested.Input> inputs = new ArrayList<>();
    ArrayNode recorded = Json.MAPPER.createArrayNode();
    for (int i = 0; i < ids.size(); i++) {
      inputs.add(new MergeRequested.Input(ids.get(i), Json.refs(adapterOf(tenant, modelId, ids.get(i), "adapters[" + i + "].id").files),
          weights.get(i)));
      recorded.addObject().put("id", ids.get(i)).put("weight", weights.get(i));
    }
    Merge m = newMerge(tenant, model, Json.write(recorded), method, seed, rank, name, inputs.size());
    m.density = density;
    m.persist();
    outbox.add(Topics.MERGE_COMMANDS, new MergeRequested(EventCodec.newId(), m.createdAt, m.id, tenant, modelId,
        Json.refs(model.files), inputs, method, density, m.seed, rank == null ? 0 : rank, m.outputId, null, List.of(), null));
    return m;
  }

  /**
   * A learned merge (docs/merging.md, "Learned merges"): the adapters of one model, their coefficients
   * learned by a merging worker on the calibration datasets — the tenant's own, of text,
   * prompt/completion or messages records — with the given hyperparameters. A long run: it reports
   * progress, can be cancelled, and resumes after a worker restart.
   */
  private Merge createLearned(String tenant, JsonNode body, LearnedMergeSpec.Method method) {
    String modelId = RequestValues.id(text(body, "model", "is required: the id of the base model the adapters were trained on"), "model");
    long seed = seed(body);
    LearnedMergeRequest request = LearnedMergeRequest.parse(body, method, seed, MAX_ADAPTERS);
    Integer rank = outputRank(body);
    String name = name(body);

    Model model = readyModel(tenant, modelId, "model");
    List<MergeRequested.Input> inputs = new ArrayList<>();
    ArrayNode recorded = Json.MAPPER.createArrayNode();
    for (int i = 0; i < request.adapters().size(); i++) {
      String id = request.adapters().get(i);
      inputs.add(new MergeRequested.Input(id, Json.refs(adapterOf(tenant, modelId, id, "adapters[" + i + "].id").files), 1.0));
      ObjectNode item = recorded.addObject().put("id", id);
      if (method.calibrationPerExpert()) {
        item.put("calibration_file", request.calibration().get(i));
      }
    }
    List<MergeRequested.Registered> calibration = new ArrayList<>();
    for (int i = 0; i < request.calibration().size(); i++) {
      String field = method.calibrationPerExpert() ? "adapters[" + i + "].calibration_file" : "calibration_file";
      String id = request.calibration().get(i);
      Dataset d = datasets.find(tenant, id).orElseThrow(() -> ApiException.badRequest("no dataset " + id, field));
      if (!d.status.equals("ready")) {
        throw ApiException.badRequest("dataset " + id + " is " + d.status + ", not ready", field);
      }
      if (!CALIBRATION_FORMATS.contains(d.format)) {
        throw ApiException.badRequest("dataset " + id + " holds " + d.format + " records; calibration takes text, prompt_completion or"
            + " messages records", field);
      }
      calibration.add(new MergeRequested.Registered(id, List.of(new ObjectRef(d.objectKey, d.sha256, d.bytes))));
    }
    Merge m = newMerge(tenant, model, Json.write(recorded), method.apiName(), seed, rank, name, inputs.size());
    m.hyperparameters = Json.write(request.shown());
    m.calibrationFile = method.calibrationPerExpert() ? null : request.calibration().get(0);
    m.persist();
    outbox.add(Topics.MERGE_COMMANDS, new MergeRequested(EventCodec.newId(), m.createdAt, m.id, tenant, modelId, Json.refs(model.files),
        inputs, m.method, 0, seed, rank == null ? 0 : rank, m.outputId, null, List.of(), new MergeRequested.Learned(request.spec(),
            calibration)));
    return m;
  }

  /** Dataset formats a learned merge calibrates on: supervised records (any text), not preference pairs. */
  static final Set<String> CALIBRATION_FORMATS = Set.of("text", "prompt_completion", "messages");

  /** The output's LoRA rank, or null for a model: {@code output: {type: model | adapter, rank}}. */
  private static Integer outputRank(JsonNode body) {
    JsonNode output = body.path("output");
    if (!output.isMissingNode() && !output.isNull() && !output.isObject()) {
      throw ApiException.badRequest("must be an object {\"type\": \"model\" | \"adapter\", \"rank\": …}", "output");
    }
    KnownFields.check(output, "output.", Set.of("type", "rank"));
    String type = output.path("type").isMissingNode() || output.path("type").isNull() ? "model" : output.path("type").asText("");
    if (type.equals("adapter")) {
      JsonNode r = output.path("rank");
      if (!r.isIntegralNumber() || !r.canConvertToInt() || r.asInt() < 1 || r.asInt() > 4096) {
        throw ApiException.badRequest("is required for an adapter: its LoRA rank, 1 to 4096", "output.rank");
      }
      return r.asInt();
    } else if (!type.equals("model")) {
      throw ApiException.badRequest("must be model or adapter", "output.type");
    }
    return null;
  }

  private Model readyModel(String tenant, String modelId, String field) {
    Model model = models.find(tenant, modelId).orElseThrow(() -> ApiException.badRequest("no model " + modelId, field));
    if (!model.status.equals(Model.READY)) {
      throw ApiException.badRequest("model " + modelId + " is " + model.status + ", not ready", field);
    }
    return model;
  }

  /** The tenant's adapter, trained on the model (else "no adapter", as for an id that does not exist). */
  private static Adapter adapterOf(String tenant, String modelId, String id, String field) {
    Adapter a = Adapter.<Adapter>find("id = ?1 and tenant = ?2", id, tenant).firstResultOptional()
        .orElseThrow(() -> ApiException.badRequest("no adapter " + id, field));
    if (!a.modelId.equals(modelId)) {
      throw ApiException.badRequest("adapter " + id + " belongs to model " + a.modelId + ", not " + modelId, field);
    }
    return a;
  }

  /** A queued merge of adapters of {@code model}, not yet persisted. */
  private static Merge newMerge(String tenant, Model model, String adapters, String method, long seed, Integer rank, String name, int count) {
    Merge m = new Merge();
    m.id = Ids.next("merge");
    m.tenant = tenant;
    m.status = Merge.QUEUED;
    m.modelId = model.id;
    m.adapters = adapters;
    m.method = method;
    m.seed = seed;
    m.outputType = rank == null ? "model" : "adapter";
    m.rank = rank;
    m.outputId = Ids.next(rank == null ? "model" : "adapter");
    m.name = name != null ? name : truncate(model.name + " (" + method + " of " + count + ")", 256);
    m.createdAt = Instant.now();
    return m;
  }

  /**
   * A whole-model merge from a mergekit configuration (docs/merging.md) whose models are the tenant's
   * registered ids: {@code model-…}, or {@code model-…+adapter-…} for an adapter of that model folded in.
   * The configuration is read here (its errors are the request's); what only the checkpoints can tell —
   * shapes, per-tensor parameters — fails the merge with the reason.
   */
  private Merge createFromConfig(String tenant, JsonNode body) {
    for (String f : List.of("model", "adapters", "method", "density", "output", "hyperparameters", "calibration_file")) {
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
        List.of(), m.method, 0, m.seed, 0, m.outputId, text, List.copyOf(registered.values()), null));
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

  /**
   * The merge a worker's event is about, the first time the event is seen and while the merge has not
   * ended (a late word after a cancellation or an outcome changes nothing); else null.
   */
  private Merge unfinished(PlatformEvent e) {
    if (!inbox.firstTime(e)) {
      return null;
    }
    Merge m = Merge.findById(e.aggregateId());
    return m == null || m.finished() ? null : m;
  }

  @Transactional
  public void onSucceeded(MergeSucceeded e) {
    Merge m = unfinished(e);
    if (m == null) {
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
    Merge m = unfinished(e);
    if (m == null) {
      return;
    }
    m.status = Merge.FAILED;
    m.errorCode = e.code();
    m.errorMessage = e.message();
    m.finishedAt = e.time();
  }

  /** A learned merge's step: running, with its latest loss. */
  @Transactional
  public void onProgressed(MergeProgressed e) {
    Merge m = unfinished(e);
    if (m == null) {
      return;
    }
    m.status = Merge.RUNNING;
    ObjectNode p = Json.MAPPER.createObjectNode().put("step", e.step()).put("steps", e.steps()).put("loss", e.loss());
    ObjectNode parts = p.putObject("parts");
    e.parts().forEach(parts::put);
    if (e.resumedFrom() > 0) {
      p.put("resumed_from", e.resumedFrom()); // this run took up from the state a crashed attempt saved
    }
    p.put("updated_at", e.time().getEpochSecond());
    m.progress = Json.write(p);
  }

  @Transactional
  public void onCancelled(MergeCancelled e) {
    Merge m = unfinished(e);
    if (m == null) {
      return;
    }
    m.status = Merge.CANCELLED;
    m.finishedAt = e.time();
  }

  /**
   * Asks for a merge to stop: one not started yet is cancelled at once (a worker that takes it up skips
   * it), a running one stops after its current step and is cancelled then. A finished merge cannot be.
   */
  @Transactional
  public Merge cancel(String tenant, String id) {
    Merge m = get(tenant, id);
    if (m.finished()) {
      throw new ApiException(409, "merge " + id + " has already " + (m.status.equals(Merge.SUCCEEDED) ? "succeeded" : "ended: " + m.status),
          "id");
    }
    if (m.cancelRequested) {
      return m;
    }
    m.cancelRequested = true;
    if (m.status.equals(Merge.QUEUED)) {
      m.status = Merge.CANCELLED;
      m.finishedAt = Instant.now();
    }
    outbox.add(Topics.MERGE_CONTROL, new MergeCancelRequested(EventCodec.newId(), Instant.now(), m.id, tenant));
    return m;
  }

  /** An outcome of the merge that can never be applied: the merge fails with the reason instead of staying queued. */
  @Transactional(Transactional.TxType.REQUIRES_NEW)
  public void failForUnreadableOutcome(String mergeId, String reason) {
    Merge m = Merge.findById(mergeId);
    if (m != null && !m.finished()) {
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

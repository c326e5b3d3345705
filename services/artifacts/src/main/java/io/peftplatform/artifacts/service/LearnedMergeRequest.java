package io.peftplatform.artifacts.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftplatform.merge.config.LearnedMergeSpec;
import io.peftplatform.merge.config.MergeConfigException;
import io.peftplatform.service.problem.ApiException;
import io.peftplatform.service.problem.KnownFields;
import io.peftplatform.service.problem.RequestValues;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The form of a learned merge's request (before the registry is asked): the adapters, each with its
 * calibration dataset for Expert Merging or one shared {@code calibration_file} for AdaMerging, and the
 * {@code hyperparameters} read into a {@link LearnedMergeSpec} — every refusal naming its field.
 *
 * @param calibration dataset ids: one per adapter (Expert Merging) or the shared one (AdaMerging)
 */
record LearnedMergeRequest(LearnedMergeSpec spec, List<String> adapters, List<String> calibration) {
  static final Set<String> HYPERPARAMETERS = Set.of("steps", "learning_rate", "batch_size", "max_seq_len", "chunks", "importance_chunking",
      "initial_coefficient", "temperature", "hidden_layers", "hidden_weight", "regularization");

  static LearnedMergeRequest parse(JsonNode body, LearnedMergeSpec.Method method, long seed, int maxAdapters) {
    for (String f : List.of("density", "config")) {
      if (body.has(f)) {
        throw ApiException.badRequest("a learned merge (" + method.apiName() + ") takes no " + f + ": leave it out", f);
      }
    }
    JsonNode list = body.path("adapters");
    if (!list.isArray() || list.isEmpty() || list.size() > maxAdapters) {
      throw ApiException.badRequest("must list 1 to " + maxAdapters + " adapters: [{\"id\": …" + (method.calibrationPerExpert()
          ? ", \"calibration_file\": …}]" : "}]"), "adapters");
    }
    boolean perAdapter = method.calibrationPerExpert();
    List<String> ids = new ArrayList<>();
    List<String> calibration = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      JsonNode item = list.get(i);
      String field = "adapters[" + i + "]";
      if (item.has("weight")) {
        throw ApiException.badRequest("a learned merge learns its coefficients: leave weight out", field + ".weight");
      }
      KnownFields.check(item, field + ".", Set.of("id", "calibration_file"));
      String id = item.isTextual() ? item.asText() : item.path("id").isTextual() ? item.path("id").asText() : "";
      if (id.isEmpty()) {
        throw ApiException.badRequest("is required: an adapter id", field + ".id");
      }
      ids.add(RequestValues.id(id, field + ".id"));
      JsonNode file = item.path("calibration_file");
      if (perAdapter) {
        if (!file.isTextual() || file.asText().isBlank()) {
          throw ApiException.badRequest("is required: the id of a dataset of this adapter's kind of text (" + method.apiName()
              + " aligns the merge with each adapter on its own texts)", field + ".calibration_file");
        }
        calibration.add(RequestValues.id(file.asText(), field + ".calibration_file"));
      } else if (!file.isMissingNode()) {
        throw ApiException.badRequest(method.apiName() + " takes one calibration_file for all adapters, at the top", field + ".calibration_file");
      }
    }
    JsonNode shared = body.path("calibration_file");
    if (perAdapter && !shared.isMissingNode()) {
      throw ApiException.badRequest(method.apiName() + " takes a calibration_file per adapter, in adapters[]", "calibration_file");
    }
    if (!perAdapter) {
      if (!shared.isTextual() || shared.asText().isBlank()) {
        throw ApiException.badRequest("is required: the id of a dataset of texts the merged model will see", "calibration_file");
      }
      calibration.add(RequestValues.id(shared.asText(), "calibration_file"));
    }
    return new LearnedMergeRequest(spec(body.path("hyperparameters"), method, seed), ids, calibration);
  }

  private static LearnedMergeSpec spec(JsonNode h, LearnedMergeSpec.Method method, long seed) {
    if (!h.isMissingNode() && !h.isNull() && !h.isObject()) {
      throw ApiException.badRequest("must be an object of the learned merge's settings", "hyperparameters");
    }
    KnownFields.check(h, "hyperparameters.", HYPERPARAMETERS);
    List<Integer> layers = null;
    JsonNode l = h.path("hidden_layers");
    if (!l.isMissingNode() && !l.isNull()) {
      if (!l.isArray()) {
        throw ApiException.badRequest("must be a list of layer numbers", "hyperparameters.hidden_layers");
      }
      layers = new ArrayList<>();
      for (JsonNode n : l) {
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
          throw ApiException.badRequest("must be a list of layer numbers", "hyperparameters.hidden_layers");
        }
        layers.add(n.asInt());
      }
    }
    try {
      return LearnedMergeSpec.of(method, integer(h, "steps"), number(h, "learning_rate"), integer(h, "batch_size"), integer(h, "max_seq_len"),
          integer(h, "chunks"), bool(h, "importance_chunking"), number(h, "initial_coefficient"), number(h, "temperature"), layers,
          number(h, "hidden_weight"), number(h, "regularization"), seed);
    } catch (MergeConfigException e) {
      String message = e.getMessage();
      int colon = message.indexOf(": ");
      throw ApiException.badRequest(colon > 0 ? message.substring(colon + 2) : message,
          "hyperparameters." + (colon > 0 ? message.substring(0, colon) : "steps"));
    }
  }

  private static Integer integer(JsonNode h, String field) {
    JsonNode v = h.path(field);
    if (v.isMissingNode() || v.isNull()) {
      return null;
    }
    if (!v.isIntegralNumber() || !v.canConvertToInt()) {
      throw ApiException.badRequest("must be an integer", "hyperparameters." + field);
    }
    return v.asInt();
  }

  private static Double number(JsonNode h, String field) {
    JsonNode v = h.path(field);
    if (v.isMissingNode() || v.isNull()) {
      return null;
    }
    if (!v.isNumber() || !Double.isFinite(v.asDouble())) {
      throw ApiException.badRequest("must be a finite number", "hyperparameters." + field);
    }
    return v.asDouble();
  }

  private static Boolean bool(JsonNode h, String field) {
    JsonNode v = h.path(field);
    if (v.isMissingNode() || v.isNull()) {
      return null;
    }
    if (!v.isBoolean()) {
      throw ApiException.badRequest("must be true or false", "hyperparameters." + field);
    }
    return v.asBoolean();
  }

  /** The settings as the API shows them back: every one, defaults included. */
  JsonNode shown() {
    ObjectNode n = Json.MAPPER.createObjectNode();
    n.put("steps", spec.steps()).put("learning_rate", spec.learningRate()).put("batch_size", spec.batchSize())
        .put("max_seq_len", spec.maxSeqLen()).put("chunks", spec.chunks()).put("initial_coefficient", spec.initialCoefficient());
    if (spec.method() == LearnedMergeSpec.Method.EXPERT_MERGING) {
      n.put("importance_chunking", spec.importanceChunking()).put("temperature", spec.temperature())
          .put("hidden_weight", spec.hiddenWeight()).put("regularization", spec.regularization());
      var layers = n.putArray("hidden_layers");
      spec.hiddenLayers().forEach(layers::add);
    }
    return n;
  }
}

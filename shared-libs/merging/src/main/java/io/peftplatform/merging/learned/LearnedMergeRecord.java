package io.peftplatform.merging.learned;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftplatform.merge.config.LearnedMergeSpec;
import io.peftplatform.merging.Merger;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The provenance of a learned merge, written beside its output as {@link Merger#RECORD}: the method and
 * every setting, the experts and their calibration texts, the first and last step's losses, Expert
 * Merging++'s layer importance, and every learned coefficient — per module, per expert, per chunk.
 */
final class LearnedMergeRecord {
  private static final ObjectMapper JSON = new ObjectMapper();

  private LearnedMergeRecord() {}

  static void write(Path output, LearnedMerge merge, List<LearnedMerge.ExpertInput> experts, int rank) {
    LearnedMergeSpec spec = merge.spec();
    ObjectNode r = JSON.createObjectNode();
    r.put("method", spec.method().apiName());
    r.put("importance_chunking", spec.importanceChunking());
    ArrayNode list = r.putArray("experts");
    List<Integer> sizes = merge.calibrationSizes();
    for (int e = 0; e < experts.size(); e++) {
      LearnedMerge.ExpertInput in = experts.get(e);
      ObjectNode x = list.addObject().put("name", in.name()).put("kind", in.wholeModel() ? "model" : "adapter");
      if (spec.method().calibrationPerExpert()) {
        x.put("calibration", in.calibrationName()).put("texts", sizes.get(e));
      }
    }
    if (!spec.method().calibrationPerExpert()) {
      r.put("calibration_texts", sizes.stream().mapToInt(Integer::intValue).sum());
    }
    ObjectNode s = r.putObject("settings");
    s.put("steps", spec.steps()).put("learning_rate", spec.learningRate()).put("batch_size", spec.batchSize())
        .put("max_seq_len", spec.maxSeqLen()).put("chunks", spec.chunks()).put("initial_coefficient", spec.initialCoefficient())
        .put("seed", spec.seed());
    if (spec.method() == LearnedMergeSpec.Method.EXPERT_MERGING) {
      s.put("temperature", spec.temperature()).put("hidden_weight", spec.hiddenWeight()).put("regularization", spec.regularization());
      ArrayNode layers = s.putArray("hidden_layers");
      spec.alignedLayers(merge.config().numLayers()).forEach(layers::add);
    }
    if (rank > 0) {
      r.put("rank", rank);
    }
    List<LearnedMerge.StepLoss> history = merge.history();
    if (!history.isEmpty()) {
      ObjectNode loss = r.putObject("loss");
      loss.set("first", losses(history.get(0)));
      loss.set("last", losses(history.get(history.size() - 1)));
    }
    if (!merge.importance().isEmpty()) {
      ObjectNode imp = r.putObject("layer_importance");
      merge.importance().forEach((layer, v) -> imp.put(String.valueOf(layer), v));
    }
    ObjectNode coefficients = r.putObject("coefficients");
    for (String module : merge.modules()) {
      ArrayNode perExpert = coefficients.putArray(module);
      for (double[] chunks : merge.coefficients(module)) {
        ArrayNode a = perExpert.addArray();
        for (double c : chunks) {
          a.add(c);
        }
      }
    }
    try {
      JSON.writerWithDefaultPrettyPrinter().writeValue(output.resolve(Merger.RECORD).toFile(), r);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static ObjectNode losses(LearnedMerge.StepLoss step) {
    ObjectNode n = JSON.createObjectNode().put("step", step.step() + 1).put("loss", step.loss());
    for (Map.Entry<String, Double> p : step.parts().entrySet()) {
      n.put(p.getKey(), p.getValue());
    }
    return n;
  }
}

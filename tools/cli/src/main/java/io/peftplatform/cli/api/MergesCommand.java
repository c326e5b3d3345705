package io.peftplatform.cli.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftplatform.cli.LearnedMergeOptions;
import io.peftplatform.client.PeftClient;
import io.peftplatform.merge.config.LearnedMergeSpec;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "merges", description = "Merges of adapters on the platform: into a new model, or into one LoRA (--rank).",
    subcommands = {MergesCommand.Create.class, MergesCommand.List.class, MergesCommand.Get.class, MergesCommand.Cancel.class})
public final class MergesCommand {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Command(name = "create", sortOptions = false, description = {"Merge adapters of one model (docs/merging.md); --wait until it ends.",
      "--config merge.yml: whole models by a mergekit configuration naming registered ids (model-…, model-…+adapter-…).",
      "--method expert_merging: coefficients learned on a --calibration dataset per --adapter, in order; ada_merging: one --calibration."})
  static final class Create implements Callable<Integer> {
    @Mixin ApiOptions api;

    @Option(names = "--config", paramLabel = "YAML", description = "A mergekit configuration over registered models (instead of --model/--adapter).")
    java.nio.file.Path config;

    @Option(names = "--model", paramLabel = "ID", description = "The base model the adapters were trained on.")
    String model;

    @Option(names = "--adapter", paramLabel = "ID[:WEIGHT]", description = "An adapter, with its weight (default 1); repeat.")
    java.util.List<String> adapters;

    @Option(names = "--method", defaultValue = "task_arithmetic", paramLabel = "M",
        description = "linear, task_arithmetic, ties, dare_linear, dare_ties; learned: expert_merging, ada_merging (default: ${DEFAULT-VALUE}).")
    String method;

    @Option(names = "--calibration", paramLabel = "FILE-ID", description = "Learned merges: a dataset of texts (expert_merging: one per"
        + " --adapter, in order; ada_merging: one for all).")
    java.util.List<String> calibrations;

    @Mixin LearnedMergeOptions learned;

    @Option(names = "--density", paramLabel = "D", description = "ties and dare: the fraction kept (default 0.5).")
    Double density;

    @Option(names = "--seed", paramLabel = "S", description = "dare and della: seeds the random drop; learned merges: the texts' order (default 0).")
    Long seed;

    @Option(names = "--rank", paramLabel = "R", description = "Make one LoRA adapter of this rank instead of a model.")
    Integer rank;

    @Option(names = "--name", paramLabel = "NAME", description = "The merged model's name.")
    String name;

    @Option(names = "--wait", description = "Wait for the merge to end and print it.")
    boolean await;

    @Override
    public Integer call() {
      ObjectNode request;
      if (config != null) {
        if (model != null || adapters != null || rank != null || density != null) {
          throw new IllegalArgumentException("--config names the models and method: leave out --model, --adapter, --density and --rank");
        }
        try {
          request = JSON.createObjectNode().put("config", java.nio.file.Files.readString(config));
        } catch (java.io.IOException e) {
          throw new IllegalArgumentException("--config " + config + ": cannot read (" + e.getMessage() + ")");
        }
      } else if (model == null || adapters == null) {
        throw new IllegalArgumentException("give --model and --adapter (an adapter merge) or --config merge.yml (a mergekit merge)");
      } else if (LearnedMergeSpec.Method.isLearned(method)) {
        request = learnedMerge(LearnedMergeSpec.Method.byName(method));
      } else if (calibrations != null || learned.any()) {
        throw new IllegalArgumentException("--calibration and the learning options are for the learned merges (--method expert_merging or"
            + " ada_merging)");
      } else {
        request = adapterMerge();
      }
      return send(request);
    }

    /** The request of a learned merge; the platform checks the settings and answers with the field at fault. */
    private ObjectNode learnedMerge(LearnedMergeSpec.Method m) {
      if (density != null) {
        throw new IllegalArgumentException("--density: a learned merge learns its coefficients; leave --density out");
      }
      java.util.List<String> files = calibrations == null ? java.util.List.of() : calibrations;
      if (m.calibrationPerExpert() ? files.size() != adapters.size() : files.size() != 1) {
        throw new IllegalArgumentException("--calibration: " + m.apiName() + (m.calibrationPerExpert() ? " takes one per --adapter, in order: "
            + adapters.size() + " adapters, " + files.size() + " datasets" : " takes one dataset for all adapters, got " + files.size()));
      }
      ObjectNode request = JSON.createObjectNode().put("model", model).put("method", m.apiName());
      for (int i = 0; i < adapters.size(); i++) {
        if (adapters.get(i).contains(":")) {
          throw new IllegalArgumentException("--adapter " + adapters.get(i) + ": a learned merge learns its coefficients; give no weight");
        }
        ObjectNode item = request.withArray("adapters").addObject().put("id", adapters.get(i));
        if (m.calibrationPerExpert()) {
          item.put("calibration_file", files.get(i));
        }
      }
      if (!m.calibrationPerExpert()) {
        request.put("calibration_file", files.get(0));
      }
      learned.addTo(request.putObject("hyperparameters"));
      if (rank != null) {
        request.putObject("output").put("type", "adapter").put("rank", rank);
      }
      return request;
    }

    private ObjectNode adapterMerge() {
      ObjectNode request = JSON.createObjectNode().put("model", model).put("method", method);
      for (String a : adapters) {
        int colon = a.lastIndexOf(':');
        ObjectNode item = request.withArray("adapters").addObject().put("id", colon < 0 ? a : a.substring(0, colon));
        if (colon >= 0) {
          try {
            item.put("weight", Double.parseDouble(a.substring(colon + 1)));
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--adapter " + a + ": the weight after ':' must be a number");
          }
        }
      }
      if (density != null) {
        request.put("density", density);
      }
      if (rank != null) {
        request.putObject("output").put("type", "adapter").put("rank", rank);
      }
      return request;
    }

    private int send(ObjectNode request) {
      if (seed != null) {
        request.put("seed", seed);
      }
      if (name != null) {
        request.put("name", name);
      }
      try (PeftClient c = api.client()) {
        JsonNode merge = c.createMerge(request);
        if (await) {
          int[] shown = {0};
          merge = c.awaitMerge(merge.path("id").asText(), Duration.ofHours(6), m -> {
            JsonNode p = m.path("progress");
            if (p.isObject() && p.path("step").asInt() > shown[0]) { // a learned merge's steps, as they come
              shown[0] = p.path("step").asInt();
              System.err.printf(java.util.Locale.ROOT, "step %d/%d | loss %.4f%n", shown[0], p.path("steps").asInt(), p.path("loss").asDouble());
            }
          });
        }
        if (api.json) {
          Output.json(merge);
        } else {
          Output.out().printf("%s  %s%s%n", merge.path("id").asText(), merge.path("status").asText(),
              merge.hasNonNull("output_id") ? "  " + merge.path("output_type").asText() + " " + merge.path("output_id").asText()
                  : merge.hasNonNull("error") ? "  " + merge.at("/error/message").asText() : "");
        }
        return merge.path("status").asText().equals("failed") ? 1 : 0;
      }
    }
  }

  @Command(name = "cancel", description = "Cancel a merge: at once if it has not started, else a learned merge stops after its current step.")
  static final class Cancel implements Callable<Integer> {
    @Mixin ApiOptions api;

    @Parameters(paramLabel = "ID")
    String id;

    @Override
    public Integer call() {
      return api.printJson(c -> c.cancelMerge(id));
    }
  }

  @Command(name = "list", description = "List merges, newest first.")
  static final class List implements Callable<Integer> {
    @Mixin ApiOptions api;
    @Mixin Paging paging;

    @Override
    public Integer call() {
      return api.printPage(c -> c.listMerges(paging.after, paging.limit), "id", "status", "method", "model", "output_type", "output_id",
          "created_at");
    }
  }

  @Command(name = "get", description = "Show a merge.")
  static final class Get implements Callable<Integer> {
    @Mixin ApiOptions api;

    @Parameters(paramLabel = "ID")
    String id;

    @Override
    public Integer call() {
      return api.printJson(c -> c.getMerge(id));
    }
  }
}

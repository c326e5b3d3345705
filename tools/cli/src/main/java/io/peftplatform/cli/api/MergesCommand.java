package io.peftplatform.cli.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftplatform.client.PeftClient;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "merges", description = "Merges of adapters on the platform: into a new model, or into one LoRA (--rank).",
    subcommands = {MergesCommand.Create.class, MergesCommand.List.class, MergesCommand.Get.class})
public final class MergesCommand {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Command(name = "create", description = {"Merge adapters of one model (docs/merging.md); --wait until it ends.",
      "--config merge.yml: whole models by a mergekit configuration naming registered ids (model-…, model-…+adapter-…)."})
  static final class Create implements Callable<Integer> {
    @Mixin ApiOptions api;

    @Option(names = "--config", paramLabel = "YAML", description = "A mergekit configuration over registered models (instead of --model/--adapter).")
    java.nio.file.Path config;

    @Option(names = "--model", paramLabel = "ID", description = "The base model the adapters were trained on.")
    String model;

    @Option(names = "--adapter", paramLabel = "ID[:WEIGHT]", description = "An adapter, with its weight (default 1); repeat.")
    java.util.List<String> adapters;

    @Option(names = "--method", defaultValue = "task_arithmetic", paramLabel = "M",
        description = "linear, task_arithmetic, ties, dare_linear or dare_ties (default: ${DEFAULT-VALUE}).")
    String method;

    @Option(names = "--density", paramLabel = "D", description = "ties and dare: the fraction kept (default 0.5).")
    Double density;

    @Option(names = "--seed", paramLabel = "S", description = "dare and della: seeds the random drop (default 0).")
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
      } else {
        request = adapterMerge();
      }
      return send(request);
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
          merge = c.awaitMerge(merge.path("id").asText(), Duration.ofHours(6));
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

  @Command(name = "list", description = "List merges, newest first.")
  static final class List implements Callable<Integer> {
    @Mixin ApiOptions api;
    @Mixin Paging paging;

    @Override
    public Integer call() {
      return api.printPage(c -> c.listMerges(paging.after, paging.limit), "id", "status", "method", "model", "output_type", "output_id", "created_at");
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

package io.peftplatform.cli;

import io.peftplatform.merge.config.MergeConfig;
import io.peftplatform.merge.config.ModelReference;
import io.peftplatform.merging.MergeMethod;
import io.peftplatform.merging.MergeSpec;
import io.peftplatform.merging.Merger;
import io.peftplatform.merging.mergekit.ModelMerge;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "merge", sortOptions = false,
    description = {"Merge adapters into their base model, several adapters into one LoRA, or whole models from a mergekit configuration.",
        "One adapter, default settings: the base with the adapter merged in, a plain Hugging Face model.",
        "Several: their updates combined by --method; --rank R writes one LoRA of rank R instead of a model (SVD).",
        "--config merge.yml: mergekit's YAML (merge_method, base_model, models or slices, parameters, dtype); model paths",
        "relative to the current directory, MODEL+ADAPTER folds an adapter in first."})
final class MergeCommand implements Callable<Integer> {
  @Option(names = "--config", paramLabel = "YAML", description = "A mergekit configuration: merges whole models (no --model/--adapter).")
  Path config;

  @Option(names = "--model", paramLabel = "DIR", description = "The base model all adapters were trained on.")
  Path model;

  @Option(names = "--adapter", paramLabel = "DIR", description = "An adapter directory; repeat for several.")
  List<Path> adapters;

  @Option(names = "--method", defaultValue = "task_arithmetic", paramLabel = "M",
      description = "linear, task_arithmetic, ties, dare_linear or dare_ties (default: ${DEFAULT-VALUE}).")
  String method;

  @Option(names = "--weights", split = ",", paramLabel = "W,W…", description = "One weight per adapter, in order (default: 1 each).")
  List<Double> weights;

  @Option(names = "--density", defaultValue = "0.5", paramLabel = "D",
      description = "ties: fraction of each update kept; dare: probability an entry is kept (default: ${DEFAULT-VALUE}).")
  double density;

  @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "Seeds DARE's and DELLA's random drops (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--rank", paramLabel = "R", description = "Write a LoRA adapter of this rank (SVD of the merged update) instead of a model.")
  Integer rank;

  @Option(names = "--output", required = true, paramLabel = "DIR", description = "Directory to write.")
  Path output;

  @Override
  public Integer call() {
    if (config != null) {
      if (model != null || adapters != null || rank != null || weights != null) {
        throw new IllegalArgumentException("--config merges what the configuration names: leave out --model, --adapter, --weights and --rank");
      }
      return mergeModels();
    }
    if (model == null || adapters == null) {
      throw new IllegalArgumentException("give --model and --adapter (an adapter merge) or --config merge.yml (a mergekit merge)");
    }
    MergeMethod m = MergeMethod.byName(method);
    List<Double> w = weights != null ? weights : Collections.nCopies(adapters.size(), 1.0);
    MergeSpec spec = new MergeSpec(m, w, density, seed);
    long start = System.nanoTime();
    if (rank != null) {
      Merger.Result r = Merger.toAdapter(model, adapters, spec, rank, output, model.toString());
      System.out.printf("wrote %s: a PEFT LORA adapter of rank %d on %d modules, %,d parameters (%s of %d adapters, %.1f s)%n",
          output, rank, r.modules(), r.parameters(), m.cliName(), adapters.size(), (System.nanoTime() - start) / 1e9);
    } else {
      Merger.Result r = Merger.toModel(model, adapters, spec, output);
      System.out.printf("wrote %s: the base model with %d modules changed, %,d parameters (%s of %d adapter%s, %.1f s)%n",
          output, r.modules(), r.parameters(), m.cliName(), adapters.size(), adapters.size() == 1 ? "" : "s",
          (System.nanoTime() - start) / 1e9);
    }
    return 0;
  }

  private int mergeModels() {
    MergeConfig c = MergeConfig.read(config);
    long start = System.nanoTime();
    ModelMerge.Result r = ModelMerge.run(c, ModelReference.paths(Path.of("").toAbsolutePath()), seed, output);
    r.notes().forEach(n -> System.err.println("note: " + n));
    System.out.printf("wrote %s: %s of %d model%s, %d layers, %d tensors, %,d parameters, %.1f MB (%.1f s)%n", output,
        c.method().configName(), c.referencedModels().size(), c.referencedModels().size() == 1 ? "" : "s", r.layers(), r.tensors(),
        r.parameters(), r.bytes() / 1e6, (System.nanoTime() - start) / 1e9);
    return 0;
  }
}

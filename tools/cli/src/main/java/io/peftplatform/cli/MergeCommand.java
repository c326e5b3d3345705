package io.peftplatform.cli;

import io.peftplatform.merge.config.LearnedMergeSpec;
import io.peftplatform.merge.config.MergeConfig;
import io.peftplatform.merge.config.ModelReference;
import io.peftplatform.merging.MergeMethod;
import io.peftplatform.merging.MergeSpec;
import io.peftplatform.merging.Merger;
import io.peftplatform.merging.learned.LearnedMerge;
import io.peftplatform.merging.mergekit.ModelMerge;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.buffer.DataType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "merge", sortOptions = false,
    description = {"Merge adapters into their base model, several adapters into one LoRA, or whole models from a mergekit configuration.",
        "One adapter, default settings: the base with the adapter merged in, a plain Hugging Face model.",
        "Several: their updates combined by --method; --rank R writes one LoRA of rank R instead of a model (SVD).",
        "--config merge.yml: mergekit's YAML (merge_method, base_model, models or slices, parameters, dtype); model paths",
        "relative to the current directory, MODEL+ADAPTER folds an adapter in first.",
        "--method expert_merging | ada_merging: coefficients learned on calibration texts, per module (and chunk) and expert;",
        "expert_merging takes one --calibration per --adapter/--expert, in the order given; ada_merging one or more for all."})
final class MergeCommand implements Callable<Integer> {
  @Spec CommandSpec command;

  @Option(names = "--config", paramLabel = "YAML", description = "A mergekit configuration: merges whole models (no --model/--adapter).")
  Path config;

  @Option(names = "--model", paramLabel = "DIR", description = "The base model all adapters were trained on.")
  Path model;

  @Option(names = "--adapter", paramLabel = "DIR", description = "An adapter directory; repeat for several.")
  List<Path> adapters;

  @Option(names = "--expert", paramLabel = "DIR", description = "A whole fine-tuned model of the base (learned merges); repeat for several.")
  List<Path> wholeModels;

  @Option(names = "--method", defaultValue = "task_arithmetic", paramLabel = "M",
      description = "linear, task_arithmetic, ties, dare_linear, dare_ties; learned: expert_merging, ada_merging (default: ${DEFAULT-VALUE}).")
  String method;

  @Option(names = "--calibration", paramLabel = "FILE", description = "Learned merges: unlabeled JSONL texts (text, prompt/completion or messages).")
  List<Path> calibrations;

  @Mixin LearnedMergeOptions learned;

  @Option(names = "--weights", split = ",", paramLabel = "W,W…", description = "One weight per adapter, in order (default: 1 each).")
  List<Double> weights;

  @Option(names = "--density", defaultValue = "0.5", paramLabel = "D",
      description = "ties: fraction of each update kept; dare: probability an entry is kept (default: ${DEFAULT-VALUE}).")
  double density;

  @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "Seeds DARE's and DELLA's random drops and the order of a learned merge's texts (default: ${DEFAULT-VALUE}).")
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
    if (LearnedMergeSpec.Method.isLearned(method)) {
      return learnedMerge(LearnedMergeSpec.Method.byName(method));
    }
    if (wholeModels != null || calibrations != null || learned.any()) {
      throw new IllegalArgumentException("--expert, --calibration and the learning options are for the learned merges (--method"
          + " expert_merging or ada_merging)");
    }
    if (model == null || adapters == null) {
      throw new IllegalArgumentException("give --model and --adapter (an adapter merge) or --config merge.yml (a mergekit merge)");
    }
    MergeMethod m;
    try {
      m = MergeMethod.byName(method);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(e.getMessage() + "; or learned: expert_merging, ada_merging");
    }
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

  private int learnedMerge(LearnedMergeSpec.Method m) {
    if (model == null) {
      throw new IllegalArgumentException("--model: the base model the experts were fine-tuned from is needed");
    }
    if (weights != null) {
      throw new IllegalArgumentException("--weights: a learned merge learns its coefficients; leave --weights out");
    }
    List<LearnedMerge.ExpertInput> experts = experts(m);
    LearnedMergeSpec spec = learned.spec(m, seed);
    long start = System.nanoTime();
    LearnedMerge merge = LearnedMerge.prepare(spec, model, experts, m.calibrationPerExpert() ? List.of() : calibrations, DataType.FLOAT);
    System.err.printf("%s: %d coefficients on %d modules of %d experts, %d calibration texts (%.1f s to prepare)%n", m.apiName(),
        merge.coefficientCount(), merge.modules().size(), experts.size(), merge.calibrationSizes().stream().mapToInt(Integer::intValue).sum(),
        (System.nanoTime() - start) / 1e9);
    merge.run(new ProgressBar(System.err), null, null);
    LearnedMerge.StepLoss last = merge.history().get(merge.history().size() - 1);
    Merger.Result r;
    String what;
    if (rank != null) {
      r = merge.writeAdapter(output, rank, model.toString());
      what = String.format("a PEFT LORA adapter of rank %d on %d modules", rank, r.modules());
    } else {
      r = merge.writeModel(output);
      what = String.format("the base model with %d modules changed", r.modules());
    }
    System.out.printf("wrote %s: %s, %,d parameters (%s of %d experts, loss %.4f -> %.4f, coefficients in %s, %.1f s)%n", output, what,
        r.parameters(), m.apiName(), experts.size(), merge.history().get(0).loss(), last.loss(), Merger.RECORD,
        (System.nanoTime() - start) / 1e9);
    return 0;
  }

  /** --adapter and --expert in the order given, each with its --calibration for Expert Merging. */
  private List<LearnedMerge.ExpertInput> experts(LearnedMergeSpec.Method m) {
    Iterator<Path> adapterDirs = adapters == null ? Collections.emptyIterator() : adapters.iterator();
    Iterator<Path> modelDirs = wholeModels == null ? Collections.emptyIterator() : wholeModels.iterator();
    List<LearnedMerge.ExpertInput> out = new ArrayList<>();
    List<Path> files = calibrations == null ? List.of() : calibrations;
    for (String arg : command.commandLine().getParseResult().originalArgs()) {
      boolean whole = arg.equals("--expert") || arg.startsWith("--expert=");
      if (whole || arg.equals("--adapter") || arg.startsWith("--adapter=")) {
        Path dir = whole ? modelDirs.next() : adapterDirs.next();
        int i = out.size();
        Path calibration = m.calibrationPerExpert() && i < files.size() ? files.get(i) : null;
        out.add(new LearnedMerge.ExpertInput(dir.toString(), dir, whole, calibration == null ? null : calibration.toString(), calibration));
      }
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("give the experts: --adapter DIR (an adapter of --model) or --expert DIR (a whole fine-tuned model), each repeatable");
    }
    if (m.calibrationPerExpert() && files.size() != out.size()) {
      throw new IllegalArgumentException("--calibration: " + m.apiName() + " takes one per expert, in the order of --adapter/--expert: "
          + out.size() + " experts, " + files.size() + " files");
    }
    if (!m.calibrationPerExpert() && files.isEmpty()) {
      throw new IllegalArgumentException("--calibration: " + m.apiName() + " needs calibration texts (one or more JSONL files, shared by all experts)");
    }
    return out;
  }
}

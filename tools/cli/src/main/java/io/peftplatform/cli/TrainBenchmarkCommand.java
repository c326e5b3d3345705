package io.peftplatform.cli;

import io.peftplatform.llama.bench.ForwardBenchmark;
import io.peftplatform.llama.bench.SgemmPeak;
import io.peftplatform.llama.checkpoint.Presets;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.text.dataset.PaddedBatch;
import io.peftplatform.training.bench.TrainBenchmark;
import io.peftplatform.training.spec.AdapterMethod;
import io.peftplatform.training.spec.AdapterSpec;
import io.peftplatform.training.spec.TargetModules;
import io.peftplatform.training.spec.TrainingConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Training steps of each adapter method on a random model, each in its own process (so a peak RSS is its
 * own), then — where Debian's PyTorch and tools/reference/bench.py are at hand — the fastest plain-PyTorch
 * step of the same shape, in its own process after ours has exited, and a table of the ratios and of each
 * step's share of this machine's measured sgemm peak.
 */
@Command(name = "train", description = "Training steps (forward, backward, AdamW) of an adapter on a random model: tokens/s and peak RSS;"
    + " each method in its own process. Where PyTorch is installed, the fastest PyTorch step of the same shape too, and the ratios.")
final class TrainBenchmarkCommand implements Callable<Integer> {
  private static final List<String> METHODS = List.of("lora", "dora", "nola", "kronecker");

  @Option(names = "--preset", defaultValue = "smollm2-135m-shape", description = "Model shape (default ${DEFAULT-VALUE}).")
  String preset;

  @Option(names = "--method", defaultValue = "all", description = "lora, dora, nola, kronecker or all (default ${DEFAULT-VALUE}).")
  String method;

  @Option(names = "--rank", defaultValue = "8", description = "Default ${DEFAULT-VALUE}.")
  int rank;

  @Option(names = "--target-modules", defaultValue = "all-linear", description = "Default ${DEFAULT-VALUE}.")
  String targets;

  @Option(names = "--batch-size", defaultValue = "8", description = "Default ${DEFAULT-VALUE}.")
  int batch;

  @Option(names = "--seq-len", defaultValue = "256", description = "Default ${DEFAULT-VALUE}.")
  int seqLen;

  @Option(names = "--steps", defaultValue = "3", description = "Timed steps (default ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--warmup", defaultValue = "1", description = "Untimed steps first (default ${DEFAULT-VALUE}).")
  int warmup;

  @Option(names = "--activation-checkpointing", description = "Recompute each block's forward in backward: less memory, one more forward.")
  boolean activationCheckpointing;

  @Option(names = "--bf16-weights", description = "Keep the projections in BF16, as training from a BF16 checkpoint does (half their memory).")
  boolean bf16Weights;

  @Option(names = "--precision", defaultValue = "fp32", paramLabel = "fp32|bf16", description = "bf16: the projections held and"
      + " multiplied in BF16 (training's --precision bf16), against PyTorch's step under bf16 autocast (default ${DEFAULT-VALUE}).")
  String precision;

  @Option(names = "--example-lengths", paramLabel = "MIN-MAX",
      description = "Random examples of lengths log-uniform in MIN-MAX (a chat set's long tail) instead of full rows of --seq-len,"
          + " padded to the longest (no PyTorch reference for these)")
  String exampleLengths;

  @Option(names = "--packing", description = "With --example-lengths: pack the examples into rows of at most MAX tokens.")
  boolean packing;

  @Option(names = "--profile", description = "Also print where each step's time goes, per stage (marks cost a little time).")
  boolean profile;

  @Option(names = "--reference", defaultValue = "auto", paramLabel = "auto|none|PATH",
      description = "The PyTorch reference script: auto (tools/reference/bench.py of this checkout, when PyTorch imports), none, or a path"
          + " (default ${DEFAULT-VALUE}).")
  String reference;

  @Option(names = "--python", defaultValue = "/usr/bin/python3", description = "The Python with PyTorch (default ${DEFAULT-VALUE}).")
  String python;

  /** Set on the per-method child process: append its result to this file instead of running the others. */
  @Option(names = "--result-file", hidden = true)
  Path resultFile;

  private record Measured(String method, double tokensPerSecond, long peakRssBytes, double gflops, double sgemmPeak, String backend) {}

  @Override
  public Integer call() throws Exception {
    Options.requirePositive("--batch-size", batch);
    Options.requirePositive("--seq-len", seqLen);
    Options.requirePositive("--steps", steps);
    int[] lengths = exampleLengths == null ? null : lengths(exampleLengths);
    if (packing && lengths == null) {
      throw new IllegalArgumentException("--packing needs --example-lengths MIN-MAX (full rows have nothing to pack)");
    }
    if (!method.equals("all")) {
      AdapterMethod.parse(method);
    }
    boolean bf16 = TrainingConfig.Precision.parse(precision) == TrainingConfig.Precision.BF16;
    LlamaConfig config = Presets.get(preset);
    if (resultFile != null) {
      measureHere(config, lengths, bf16);
      return 0;
    }
    Path script = referenceScript(lengths != null);
    System.out.println("| benchmark | method | trainable | preset | batch | seq (rows x length) | threads | s/step | tokens/s | peak RSS |");
    System.out.println("|---|---|---|---|---|---|---|---|---|---|");
    List<String> methods = method.equals("all") ? METHODS : List.of(method);
    Path results = Files.createTempFile("peft-bench-train", ".tsv");
    Map<String, PyTorchReference.Row> referenceRows = new LinkedHashMap<>();
    try {
      for (String m : methods) {
        runChild(m, results);
        if (script != null) {
          PyTorchReference.Row row = PyTorchReference.trainFast(python, script, m, preset, rank, batch, seqLen, steps, warmup,
              Integer.parseInt(BenchCommand.threads()), bf16);
          System.out.println(row.markdown());
          referenceRows.put(m, row);
        }
      }
      printSummary(readResults(results), referenceRows);
    } finally {
      Files.deleteIfExists(results);
    }
    return 0;
  }

  /** The child's part: one method's steps here, its row printed, its numbers appended to the result file. */
  private void measureHere(LlamaConfig config, int[] lengths, boolean bf16) throws IOException {
    AdapterSpec spec = AdapterSpec.defaults(AdapterMethod.parse(method)).withRank(rank).withAlpha(2.0 * rank)
        .withTargets(TargetModules.parse(targets));
    PaddedBatch input = lengths == null ? ForwardBenchmark.randomTokens(config, batch, seqLen, 0)
        : TrainBenchmark.shortExamples(config, batch, lengths[0], lengths[1], packing, 0);
    TrainBenchmark.Result r = TrainBenchmark.run(config, spec, input, activationCheckpointing, bf16Weights, bf16, warmup, steps, 0, profile);
    String variant = (lengths == null ? "" : packing ? ", packed" : ", padded") + (activationCheckpointing ? ", checkpointed" : "")
        + (bf16 ? ", bf16" : bf16Weights ? ", bf16 weights" : "");
    System.out.printf(Locale.ROOT, "| train (ND4J%s) | %s | %,d | %s | %d | %s | %s | %.3f | %.0f | %s |%n", variant, r.method(),
        r.parameters(), preset, batch, lengths == null ? Integer.toString(seqLen) : r.rows() + " x " + r.seqLen(), BenchCommand.threads(),
        r.secondsPerStep(), r.tokensPerSecond(), Sizes.human(r.peakRssBytes()));
    if (r.profile() != null) {
      System.out.println();
      System.out.print(r.profile());
      System.out.println();
    }
    double peak = SgemmPeak.gflops();
    Files.writeString(resultFile, String.join("\t", r.method(), Double.toString(r.tokensPerSecond()), Long.toString(r.peakRssBytes()),
        Double.toString(r.gflops()), Double.toString(peak), SgemmPeak.backend()) + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
  }

  private void runChild(String m, Path results) throws IOException, InterruptedException {
    String javaBin = ProcessHandle.current().info().command().orElse("java");
    List<String> cmd = new ArrayList<>(List.of(javaBin));
    cmd.addAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), PeftCli.class.getName(), "bench", "train",
        "--result-file", results.toString(), "--method", m, "--preset", preset, "--rank", Integer.toString(rank),
        "--target-modules", targets, "--batch-size", Integer.toString(batch), "--seq-len", Integer.toString(seqLen),
        "--steps", Integer.toString(steps), "--warmup", Integer.toString(warmup)));
    if (activationCheckpointing) {
      cmd.add("--activation-checkpointing");
    }
    if (bf16Weights) {
      cmd.add("--bf16-weights");
    }
    cmd.addAll(List.of("--precision", precision));
    if (exampleLengths != null) {
      cmd.addAll(List.of("--example-lengths", exampleLengths));
    }
    if (packing) {
      cmd.add("--packing");
    }
    if (profile) {
      cmd.add("--profile");
    }
    Process p = new ProcessBuilder(cmd).inheritIO().start();
    if (p.waitFor() != 0) {
      throw new IllegalStateException("the " + m + " benchmark failed (exit " + p.exitValue() + ")");
    }
  }

  private static List<Measured> readResults(Path file) throws IOException {
    List<Measured> out = new ArrayList<>();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      String[] f = line.split("\t");
      out.add(new Measured(f[0], Double.parseDouble(f[1]), Long.parseLong(f[2]), Double.parseDouble(f[3]), Double.parseDouble(f[4]), f[5]));
    }
    return out;
  }

  private void printSummary(List<Measured> measured, Map<String, PyTorchReference.Row> reference) {
    double peak = measured.stream().mapToDouble(Measured::sgemmPeak).max().orElse(0);
    System.out.println();
    System.out.printf(Locale.ROOT, "sgemm peak (ND4J %s, fp32, %d x %d x %d, best of 5): %.0f GFLOP/s on %s threads%n",
        measured.isEmpty() ? "?" : measured.get(0).backend(), SgemmPeak.SIZE, SgemmPeak.SIZE, SgemmPeak.SIZE, peak, BenchCommand.threads());
    System.out.println();
    System.out.println("| method | ND4J tokens/s | PyTorch tokens/s | speed (target >= 2x) | ND4J peak RSS | PyTorch peak RSS"
        + " | memory (target <= 0.4x) | ND4J GFLOP/s | of sgemm peak |");
    System.out.println("|---|---|---|---|---|---|---|---|---|");
    for (Measured m : measured) {
      PyTorchReference.Row ref = reference.get(m.method());
      System.out.printf(Locale.ROOT, "| %s | %.0f | %s | %s | %s | %s | %s | %.0f | %.0f%% |%n", m.method(), m.tokensPerSecond(),
          ref == null ? "-" : String.format(Locale.ROOT, "%.0f", ref.tokensPerSecond()),
          ref == null ? "-" : String.format(Locale.ROOT, "%.2fx", m.tokensPerSecond() / ref.tokensPerSecond()),
          Sizes.human(m.peakRssBytes()), ref == null ? "-" : Sizes.human(ref.peakRssBytes()),
          ref == null ? "-" : String.format(Locale.ROOT, "%.2fx", (double) m.peakRssBytes() / ref.peakRssBytes()),
          m.gflops(), 100 * m.gflops() / peak);
    }
  }

  /** The reference script to run, or null (with the reason printed) when there is none to run. */
  private Path referenceScript(boolean variableLengths) {
    if (reference.equals("none")) {
      return null;
    }
    if (variableLengths) {
      System.out.println("(no PyTorch reference for --example-lengths: tools/reference/bench.py times full rows)");
      return null;
    }
    Path script;
    if (reference.equals("auto")) {
      String home = System.getProperty("peft.home");
      script = home == null ? Path.of("tools", "reference", "bench.py") : Path.of(home, "tools", "reference", "bench.py");
      if (!Files.isRegularFile(script) || !PyTorchReference.available(python)) {
        System.out.println("(no PyTorch reference: " + (Files.isRegularFile(script) ? python + " cannot import torch" : script + " not found")
            + "; install Debian's python3-torch, or pass --reference none)");
        return null;
      }
      return script;
    }
    script = Path.of(reference);
    if (!Files.isRegularFile(script)) {
      throw new IllegalArgumentException("--reference " + reference + ": no such file");
    }
    return script;
  }

  private static int[] lengths(String text) {
    String[] parts = text.split("-");
    try {
      int min = Integer.parseInt(parts[0].trim());
      int max = Integer.parseInt(parts[1].trim());
      if (parts.length == 2 && min >= 2 && max >= min) {
        return new int[] {min, max};
      }
    } catch (RuntimeException e) {
      // refused below
    }
    throw new IllegalArgumentException("--example-lengths must be MIN-MAX with 2 <= MIN <= MAX, got '" + text + "'");
  }
}

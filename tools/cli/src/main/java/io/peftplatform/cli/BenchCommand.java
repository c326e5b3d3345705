package io.peftplatform.cli;

import io.peftplatform.llama.bench.ForwardBenchmark;
import io.peftplatform.llama.checkpoint.Presets;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.training.bench.TrainBenchmark;
import io.peftplatform.training.spec.AdapterMethod;
import io.peftplatform.training.spec.AdapterSpec;
import io.peftplatform.training.spec.TargetModules;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench", description = "Benchmarks that print a table.", subcommands = {BenchCommand.Forward.class, BenchCommand.Train.class, ServeBenchmark.class})
final class BenchCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getErr());
  }

  static String threads() {
    String env = System.getenv("OMP_NUM_THREADS");
    return env != null ? env : String.valueOf(Runtime.getRuntime().availableProcessors());
  }

  @Command(name = "forward", description = "Loss forward passes (embedding to cross-entropy) of a random model: tokens/s and peak RSS.")
  static final class Forward implements Callable<Integer> {
    @Option(names = "--preset", defaultValue = "smollm2-135m-shape", description = "Model shape (default ${DEFAULT-VALUE}).")
    String preset;

    @Option(names = "--batch-size", defaultValue = "8", description = "Default ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--seq-len", defaultValue = "256", description = "Default ${DEFAULT-VALUE}.")
    int seqLen;

    @Option(names = "--steps", defaultValue = "5", description = "Timed steps (default ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--warmup", defaultValue = "1", description = "Untimed steps first (default ${DEFAULT-VALUE}).")
    int warmup;

    @Override
    public Integer call() {
      Options.requirePositive("--batch-size", batch);
      Options.requirePositive("--seq-len", seqLen);
      Options.requirePositive("--steps", steps);
      LlamaConfig config = Presets.get(preset);
      ForwardBenchmark.Result r = ForwardBenchmark.run(config, batch, seqLen, warmup, steps, 0);
      System.out.println("| benchmark | preset | batch | seq | threads | s/step | tokens/s | peak RSS |");
      System.out.println("|---|---|---|---|---|---|---|---|");
      System.out.printf("| forward (ND4J) | %s | %d | %d | %s | %.3f | %.0f | %s |%n",
          preset, batch, seqLen, threads(), r.secondsPerStep(), r.tokensPerSecond(), Sizes.human(r.peakRssBytes()));
      return 0;
    }
  }

  @Command(name = "train", description = "Training steps (forward, backward, AdamW) of an adapter on a random model: tokens/s and peak RSS."
      + " With --method all, each method runs in its own process so peak RSS is its own.")
  static final class Train implements Callable<Integer> {
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

    @Option(names = "--example-lengths", paramLabel = "MIN-MAX",
        description = "Random examples of lengths log-uniform in MIN-MAX (a chat set's long tail) instead of full rows of --seq-len,"
            + " padded to the longest")
    String exampleLengths;

    @Option(names = "--packing", description = "With --example-lengths: pack the examples into rows of at most MAX tokens.")
    boolean packing;

    @Option(names = "--no-header", hidden = true)
    boolean noHeader;

    @Override
    public Integer call() throws Exception {
      Options.requirePositive("--steps", steps);
      int[] lengths = exampleLengths == null ? null : lengths(exampleLengths);
      if (packing && lengths == null) {
        throw new IllegalArgumentException("--packing needs --example-lengths MIN-MAX (full rows have nothing to pack)");
      }
      if (!noHeader) {
        System.out.println("| benchmark | method | trainable | preset | batch | seq (rows x length) | threads | s/step | tokens/s | peak RSS |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|");
      }
      if (!method.equals("all")) {
        var spec = AdapterSpec.defaults(AdapterMethod.parse(method)).withRank(rank).withAlpha(2.0 * rank)
            .withTargets(TargetModules.parse(targets));
        var config = Presets.get(preset);
        var input = lengths == null ? ForwardBenchmark.randomTokens(config, batch, seqLen, 0)
            : TrainBenchmark.shortExamples(config, batch, lengths[0], lengths[1], packing, 0);
        var r = TrainBenchmark.run(config, spec, input, activationCheckpointing, warmup, steps, 0);
        String variant = (lengths == null ? "" : packing ? ", packed" : ", padded") + (activationCheckpointing ? ", checkpointed" : "");
        System.out.printf("| train (ND4J%s) | %s | %,d | %s | %d | %s | %s | %.3f | %.0f | %s |%n", variant, r.method(), r.parameters(),
            preset, batch, lengths == null ? Integer.toString(seqLen) : r.rows() + " x " + r.seqLen(), threads(), r.secondsPerStep(),
            r.tokensPerSecond(), Sizes.human(r.peakRssBytes()));
        return 0;
      }
      String javaBin = ProcessHandle.current().info().command().orElse("java");
      List<String> jvm = java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments();
      for (String m : List.of("lora", "dora", "nola", "kronecker")) {
        List<String> cmd = new java.util.ArrayList<>(List.of(javaBin));
        cmd.addAll(jvm);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), PeftCli.class.getName(), "bench", "train", "--no-header",
            "--method", m, "--preset", preset, "--rank", Integer.toString(rank), "--target-modules", targets,
            "--batch-size", Integer.toString(batch), "--seq-len", Integer.toString(seqLen),
            "--steps", Integer.toString(steps), "--warmup", Integer.toString(warmup)));
        if (activationCheckpointing) {
          cmd.add("--activation-checkpointing");
        }
        if (exampleLengths != null) {
          cmd.addAll(List.of("--example-lengths", exampleLengths));
        }
        if (packing) {
          cmd.add("--packing");
        }
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        if (p.waitFor() != 0) {
          throw new IllegalStateException("the " + m + " benchmark failed (exit " + p.exitValue() + ")");
        }
      }
      return 0;
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
}

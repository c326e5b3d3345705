package io.peftplatform.cli;

import io.peftplatform.llama.bench.ForwardBenchmark;
import io.peftplatform.llama.checkpoint.Presets;
import io.peftplatform.llama.config.LlamaConfig;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench", description = "Benchmarks that print a table.", subcommands = {BenchCommand.Forward.class, TrainBenchmarkCommand.class, ServeBenchmark.class})
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
}

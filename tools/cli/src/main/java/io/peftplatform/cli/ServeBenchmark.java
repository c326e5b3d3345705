package io.peftplatform.cli;

import io.peftplatform.adapters.AdaptedModel;
import io.peftplatform.adapters.Adapter;
import io.peftplatform.adapters.AdapterFiles;
import io.peftplatform.llama.LlamaModel;
import io.peftplatform.llama.ModelDirectory;
import io.peftplatform.llama.checkpoint.CheckpointWriter;
import io.peftplatform.llama.checkpoint.Presets;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.generate.Generator;
import io.peftplatform.llama.generate.SamplingParams;
import io.peftplatform.safetensors.DType;
import io.peftplatform.serving.Completion;
import io.peftplatform.serving.ModelServer;
import io.peftplatform.serving.Prompt;
import io.peftplatform.serving.ServingLimits;
import io.peftplatform.text.Tokenizer;
import io.peftplatform.training.spec.AdapterMethod;
import io.peftplatform.training.spec.AdapterSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Multi-adapter serving on a random model: time to first token and decode tokens/s for the base model,
 * a loaded adapter, an adapter loaded on demand (cold), switching between loaded adapters, and — the
 * reference — what serving an adapter costs without a shared base (base and adapter loaded per request).
 */
@Command(name = "serve", description = "Serving many adapters from one base: time to first token and tokens/s for base, warm adapter,"
    + " cold adapter and adapter switching, against loading the base per request.")
final class ServeBenchmark implements Callable<Integer> {
  @Option(names = "--preset", defaultValue = "smollm2-135m-shape", description = "Model shape (default ${DEFAULT-VALUE}).")
  String preset;

  @Option(names = "--adapters", defaultValue = "4", description = "Adapters of the base (default ${DEFAULT-VALUE}).")
  int adapters;

  @Option(names = "--method", defaultValue = "lora", description = "Their method: lora, dora, nola or kronecker (default ${DEFAULT-VALUE}).")
  String method;

  @Option(names = "--rank", defaultValue = "16", description = "Their rank, on every linear module (default ${DEFAULT-VALUE}).")
  int rank;

  @Option(names = "--prompt-tokens", defaultValue = "64", description = "Default ${DEFAULT-VALUE}.")
  int promptTokens;

  @Option(names = "--tokens", defaultValue = "32", description = "Tokens generated per request (default ${DEFAULT-VALUE}).")
  int tokens;

  @Option(names = "--repeats", defaultValue = "3", description = "Requests per warm case (default ${DEFAULT-VALUE}; the median is shown).")
  int repeats;

  private record Row(String name, double ttftMs, double tokensPerSecond, String loaded) {}

  @Override
  public Integer call() throws Exception {
    Options.requirePositive("--adapters", adapters);
    AdapterMethod adapterMethod = AdapterMethod.parse(method);
    Options.requirePositive("--tokens", tokens);
    Options.requirePositive("--prompt-tokens", promptTokens);
    Path dir = Files.createTempDirectory("peft-bench-serve");
    try {
      Path model = dir.resolve("model");
      LlamaConfig config = CheckpointWriter.writeRandom(model, Presets.get(preset), 1, DType.F32, 0);
      Path[] adapterDirs = new Path[adapters];
      for (int i = 0; i < adapters; i++) {
        Adapter a = Adapter.create(AdapterSpec.defaults(adapterMethod).withRank(rank).withSeed(i + 1), config, DataType.FLOAT);
        a.parameters().values().assign(Nd4j.rand(DataType.FLOAT, a.parameters().values().shape()).subi(0.5).muli(0.02));
        adapterDirs[i] = dir.resolve("adapter-" + i);
        AdapterFiles.write(a, adapterDirs[i], preset);
      }
      String prompt = "the river ran past the old mill ".repeat(promptTokens); // cut to promptTokens below
      try (Tokenizer t = ModelDirectory.tokenizer(model)) {
        int[] ids = java.util.Arrays.copyOf(t.encode(prompt, false), promptTokens);
        prompt = t.decode(ids, true);
      }
      // Generation runs to the token budget: a random model may pick its end-of-sequence token early.
      SamplingParams params = new SamplingParams(0, 1, 0, tokens);
      Prompt p = new Prompt.Text(prompt);
      List<Row> rows = new java.util.ArrayList<>();
      try (ModelServer server = new ModelServer(new ServingLimits(Long.MAX_VALUE, Long.MAX_VALUE))) {
        rows.add(row("base model, cold (loads the base)", server.complete("b", model, null, p, params, List.of(), s -> {})));
        rows.add(median("base model, warm", server, model, null, p, params));
        rows.add(row("adapter, cold (loads the adapter only)", server.complete("b", model, adapterDirs[0], p, params, List.of(), s -> {})));
        rows.add(median("adapter, warm", server, model, adapterDirs[0], p, params));
        for (int i = 1; i < adapters; i++) {
          server.complete("b", model, adapterDirs[i], p, params, List.of(), s -> {});
        }
        double ttft = 0;
        double rate = 0;
        for (int i = 0; i < adapters * repeats; i++) {
          Row r = row("", server.complete("b", model, adapterDirs[i % adapters], p, params, List.of(), s -> {}));
          ttft += r.ttftMs();
          rate += r.tokensPerSecond();
        }
        rows.add(new Row(adapters + " adapters in turn, warm (mean)", ttft / (adapters * repeats), rate / (adapters * repeats), "none"));
        ModelServer.Stats s = server.stats();
        System.out.printf("model server: %d base load(s), %d adapter loads, %s of base weights, %s of adapters kept%n",
            s.modelLoads(), s.adapterLoads(), Sizes.human(s.modelBytes()), Sizes.human(s.adapterBytes()));
      }
      rows.add(reloaded(model, adapterDirs[0], prompt, params));
      System.out.println();
      System.out.printf("| case (%s, %s r=%d, %d prompt tokens, %d generated, %s threads) | time to first token | tokens/s | loaded |%n",
          preset, adapterMethod.cliName(), rank, promptTokens, tokens, BenchCommand.threads());
      System.out.println("|---|---|---|---|");
      for (Row r : rows) {
        System.out.printf("| %s | %.0f ms | %.1f | %s |%n", r.name(), r.ttftMs(), r.tokensPerSecond(), r.loaded());
      }
      return 0;
    } finally {
      try (var walk = Files.walk(dir)) {
        walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
  }

  private Row median(String name, ModelServer server, Path model, Path adapter, Prompt p, SamplingParams params) throws InterruptedException {
    List<Row> runs = new java.util.ArrayList<>();
    for (int i = 0; i < repeats; i++) {
      runs.add(row(name, server.complete("b", model, adapter, p, params, List.of(), s -> {})));
    }
    runs.sort(java.util.Comparator.comparingDouble(Row::ttftMs));
    Row ttft = runs.get(runs.size() / 2);
    runs.sort(java.util.Comparator.comparingDouble(Row::tokensPerSecond));
    return new Row(name, ttft.ttftMs(), runs.get(runs.size() / 2).tokensPerSecond(), ttft.loaded());
  }

  private static Row row(String name, Completion c) {
    double decodeSeconds = (c.totalNanos() - c.firstTokenNanos()) / 1e9;
    return new Row(name, c.firstTokenNanos() / 1e6, (c.completionTokens() - 1) / Math.max(decodeSeconds, 1e-9), c.loaded());
  }

  /** The reference: no shared base, so every adapter request loads its base and adapter again. */
  private static Row reloaded(Path model, Path adapter, String prompt, SamplingParams params) {
    long start = System.nanoTime();
    LlamaModel m = AdaptedModel.load(model, adapter, DataType.FLOAT);
    try (Tokenizer t = ModelDirectory.tokenizer(model)) {
      Set<Integer> stop = new HashSet<>(m.config().eosTokenIds());
      long[] first = {0};
      Generator.Result r = new Generator(m, stop).generate(t.encode(prompt, true), params, (Generator.TokenListener) token -> {
        if (first[0] == 0) {
          first[0] = System.nanoTime();
        }
        return true;
      });
      long end = System.nanoTime();
      return new Row("reference: adapter with its base loaded per request", (first[0] - start) / 1e6,
          (r.tokens().length - 1) / ((end - first[0]) / 1e9), "model + adapter");
    }
  }
}

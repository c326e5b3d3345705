package io.peftplatform.serving;

import io.peftplatform.adapters.AdaptedModel;
import io.peftplatform.adapters.Adapter;
import io.peftplatform.adapters.AdapterFiles;
import io.peftplatform.llama.LlamaModel;
import io.peftplatform.llama.LlamaWeights;
import io.peftplatform.llama.ModelDirectory;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.generate.Generator;
import io.peftplatform.llama.generate.SamplingParams;
import io.peftplatform.text.ChatTemplate;
import io.peftplatform.text.Tokenizer;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Serves generation for base models and their adapters as LoRAX does: one copy of a base model's
 * weights in memory, shared by every adapter of it that is loaded (an adapter's layers wrap the base's
 * frozen projections; only its own tensors are new), so a request for another adapter of a loaded base
 * loads that adapter's few megabytes, never the base again. Bases and adapters are kept least recently
 * used first within their memory budgets ({@link ServingLimits}); requests take turns per tenant
 * ({@link FairTurns}), one at a time.
 */
public final class ModelServer implements AutoCloseable {
  private static final DataType COMPUTE = DataType.FLOAT;

  /** A base model kept loaded: its weights (shared), the model over them, its tokenizer and template. */
  private static final class Base {
    final LlamaConfig config;
    final LlamaWeights weights;
    final LlamaModel model;
    final Tokenizer tokenizer;
    final ChatTemplate template;
    final long bytes;

    Base(Path dir) {
      config = ModelDirectory.config(dir);
      weights = AdaptedModel.weights(dir, config, COMPUTE);
      model = new LlamaModel(config, weights);
      tokenizer = ModelDirectory.tokenizer(dir);
      template = ChatTemplate.forTokenizer(tokenizer);
      bytes = config.parameterCount() * COMPUTE.width();
    }
  }

  /** An adapter kept loaded: the model of it over its base's shared weights. */
  private record Loaded(Path base, LlamaModel model, long bytes) {}

  /** What the server has done, for tests, benchmarks and health: loads, hits, evictions. */
  public record Stats(int modelLoads, int adapterLoads, int adapterHits, int modelEvictions, int adapterEvictions,
      int modelsLoaded, int adaptersLoaded, long modelBytes, long adapterBytes) {}

  private final ServingLimits limits;
  private final FairTurns turns = new FairTurns();
  private final LinkedHashMap<Path, Base> bases = new LinkedHashMap<>(4, 0.75f, true);
  private final LinkedHashMap<Path, Loaded> adapters = new LinkedHashMap<>(16, 0.75f, true);
  private int modelLoads;
  private int adapterLoads;
  private int adapterHits;
  private int modelEvictions;
  private int adapterEvictions;

  public ModelServer(ServingLimits limits) {
    this.limits = limits;
  }

  /**
   * Generates for one request, when it is the tenant's turn.
   *
   * @param adapterDir an adapter of the model in {@code modelDir}, or null for the base model
   * @param stop stop sequences: the text ends before the first that appears
   * @param onText receives the text as it becomes final (pieces that concatenate to the completion)
   */
  public Completion complete(String tenant, Path modelDir, Path adapterDir, Prompt prompt, SamplingParams params, List<String> stop,
      Consumer<String> onText) throws InterruptedException {
    try (FairTurns.Turn turn = turns.take(tenant)) {
      long start = System.nanoTime();
      String[] loaded = {"none"};
      Base base = base(modelDir, loaded);
      LlamaModel model = adapterDir == null ? base.model : adapter(base, modelDir, adapterDir, loaded);
      int[] input = prompt instanceof Prompt.Chat c
          ? base.tokenizer.encode(base.template.render(c.messages(), true), false)
          : base.tokenizer.encode(((Prompt.Text) prompt).text(), true);
      Set<Integer> stopIds = new HashSet<>(base.config.eosTokenIds());
      base.tokenizer.eosTokenId().ifPresent(stopIds::add);
      long[] first = {0};
      StopText text = new StopText(base.tokenizer, stop, onText);
      Generator.Result r = new Generator(model, stopIds).generate(input, params, (Generator.TokenListener) token -> {
        if (first[0] == 0) {
          first[0] = System.nanoTime();
        }
        return stopIds.contains(token) || text.add(token);
      });
      text.finish();
      String finish = text.stopped() ? Generator.Result.STOP : r.finishReason();
      return new Completion(text.text(), input.length, r.tokens().length, finish, first[0] - start, System.nanoTime() - start, loaded[0]);
    }
  }

  /** How many requests wait for their turn. */
  public int waiting() {
    return turns.waiting();
  }

  public synchronized Stats stats() {
    return new Stats(modelLoads, adapterLoads, adapterHits, modelEvictions, adapterEvictions, bases.size(), adapters.size(),
        bases.values().stream().mapToLong(b -> b.bytes).sum(), adapters.values().stream().mapToLong(Loaded::bytes).sum());
  }

  private synchronized Base base(Path dir, String[] loaded) {
    Base b = bases.get(dir);
    if (b == null) {
      b = new Base(dir);
      bases.put(dir, b);
      modelLoads++;
      loaded[0] = "model";
      evictModels(dir);
    }
    return b;
  }

  private synchronized LlamaModel adapter(Base base, Path baseDir, Path dir, String[] loaded) {
    Loaded a = adapters.get(dir);
    if (a != null && a.base().equals(baseDir)) {
      adapterHits++;
      return a.model();
    }
    Adapter adapter = AdapterFiles.read(dir, base.config, COMPUTE).forInference();
    adapter.inference();
    a = new Loaded(baseDir, adapter.attach(base.weights), adapter.parameterCount() * COMPUTE.width());
    adapters.put(dir, a);
    adapterLoads++;
    if (loaded[0].equals("none")) {
      loaded[0] = "adapter";
    }
    evictAdapters(dir);
    return a.model();
  }

  /** Drops least recently used bases (and their adapters) beyond the budget; never {@code keep}. */
  private void evictModels(Path keep) {
    long total = bases.values().stream().mapToLong(b -> b.bytes).sum();
    for (Iterator<Map.Entry<Path, Base>> it = bases.entrySet().iterator(); it.hasNext() && total > limits.modelBytes(); ) {
      Map.Entry<Path, Base> e = it.next();
      if (e.getKey().equals(keep)) {
        continue;
      }
      it.remove();
      total -= e.getValue().bytes;
      e.getValue().tokenizer.close();
      modelEvictions++;
      adapters.values().removeIf(l -> l.base().equals(e.getKey()));
    }
  }

  private void evictAdapters(Path keep) {
    long total = adapters.values().stream().mapToLong(Loaded::bytes).sum();
    for (Iterator<Map.Entry<Path, Loaded>> it = adapters.entrySet().iterator(); it.hasNext() && total > limits.adapterBytes(); ) {
      Map.Entry<Path, Loaded> e = it.next();
      if (e.getKey().equals(keep)) {
        continue;
      }
      it.remove();
      total -= e.getValue().bytes();
      adapterEvictions++;
    }
  }

  @Override
  public synchronized void close() {
    bases.values().forEach(b -> b.tokenizer.close());
    bases.clear();
    adapters.clear();
  }
}

package io.peftplatform.serving;

import static org.assertj.core.api.Assertions.assertThat;

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
import io.peftplatform.text.ChatMessage;
import io.peftplatform.text.Tokenizer;
import io.peftplatform.training.spec.AdapterMethod;
import io.peftplatform.training.spec.AdapterSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

class ModelServerTest {
  @TempDir static Path dir;
  static Path model;
  static Path[] adapters = new Path[3];
  static final SamplingParams GREEDY = SamplingParams.greedy(12);

  @BeforeAll
  static void checkpoints() {
    model = dir.resolve("model");
    LlamaConfig config = CheckpointWriter.writeRandom(model, Presets.get("tiny"), 7, DType.F32, Long.MAX_VALUE);
    // Seeded: which tokens the greedy texts hold (an end-of-sequence among them or not) must not vary per run.
    Nd4j.getRandom().setSeed(11);
    for (int i = 0; i < adapters.length; i++) {
      Adapter a = Adapter.create(AdapterSpec.defaults(i == 2 ? AdapterMethod.DORA : AdapterMethod.LORA).withSeed(i + 1), config, DataType.FLOAT);
      // Non-zero B, so each adapter changes what the model says.
      a.parameters().values().assign(Nd4j.rand(DataType.FLOAT, a.parameters().values().shape()).subi(0.5).muli(0.6));
      adapters[i] = dir.resolve("adapter-" + i);
      AdapterFiles.write(a, adapters[i], "tiny");
    }
  }

  /** The same generation without the server: the adapter attached to a freshly loaded base. */
  static String direct(Path adapter, String prompt) {
    LlamaModel m = AdaptedModel.load(model, adapter, DataType.FLOAT);
    try (Tokenizer t = ModelDirectory.tokenizer(model)) {
      Set<Integer> stop = new HashSet<>(m.config().eosTokenIds());
      t.eosTokenId().ifPresent(stop::add);
      Generator.Result r = new Generator(m, stop).generate(t.encode(prompt, true), GREEDY, x -> {});
      return t.decode(r.tokens(), true);
    }
  }

  @Test
  void adaptersShareOneLoadOfTheirBaseAndAnswerAsIfLoadedAlone() throws Exception {
    try (ModelServer server = new ModelServer(new ServingLimits(1L << 30, 1L << 30))) {
      List<String> texts = new ArrayList<>();
      for (Path a : new Path[] {null, adapters[0], adapters[1], adapters[2], adapters[0], null}) {
        texts.add(server.complete("t", model, a, new Prompt.Text("the river"), GREEDY, List.of(), s -> {}).text());
      }
      ModelServer.Stats s = server.stats();
      assertThat(s.modelLoads()).as("the base is loaded once for all its adapters").isEqualTo(1);
      assertThat(s.adapterLoads()).isEqualTo(3);
      assertThat(s.adapterHits()).isEqualTo(1);
      assertThat(texts.get(0)).isEqualTo(direct(null, "the river")).isEqualTo(texts.get(5));
      for (int i = 0; i < 3; i++) {
        assertThat(texts.get(i + 1)).as("adapter %d", i).isEqualTo(direct(adapters[i], "the river"));
      }
      assertThat(texts.get(4)).isEqualTo(texts.get(1));
      assertThat(new HashSet<>(texts.subList(0, 4))).as("each adapter changes the text").hasSize(4);
    }
  }

  @Test
  void adaptersBeyondTheBudgetAreEvictedLeastRecentlyUsedFirst() throws Exception {
    long oneAdapter;
    try (ModelServer probe = new ModelServer(new ServingLimits(1L << 30, 1L << 30))) {
      probe.complete("t", model, adapters[0], new Prompt.Text("a"), SamplingParams.greedy(1), List.of(), s -> {});
      oneAdapter = probe.stats().adapterBytes();
    }
    try (ModelServer server = new ModelServer(new ServingLimits(1L << 30, 2 * oneAdapter + oneAdapter / 2))) {
      for (Path a : new Path[] {adapters[0], adapters[1], adapters[0], adapters[2], adapters[0], adapters[1]}) {
        server.complete("t", model, a, new Prompt.Text("a"), SamplingParams.greedy(1), List.of(), s -> {});
      }
      ModelServer.Stats s = server.stats();
      // Room for two LoRAs and a half (DoRA is a LoRA and its magnitudes): 0, 1 loaded; 0 hit; 2 (DoRA) evicts 1,
      // the least recently used; 0 hit; 1 loaded again, evicting 2.
      assertThat(s.adapterLoads()).isEqualTo(4);
      assertThat(s.adapterHits()).isEqualTo(2);
      assertThat(s.adapterEvictions()).isEqualTo(2);
      assertThat(s.adaptersLoaded()).isEqualTo(2);
      assertThat(s.modelLoads()).isEqualTo(1);
    }
  }

  @Test
  void streamedPiecesMakeTheTextAndAStopSequenceEndsIt() throws Exception {
    try (ModelServer server = new ModelServer(new ServingLimits(1L << 30, 1L << 30))) {
      StringBuilder pieces = new StringBuilder();
      Completion full = server.complete("t", model, adapters[1], new Prompt.Text("the river"), GREEDY, List.of(), pieces::append);
      assertThat(pieces.toString()).isEqualTo(full.text());
      assertThat(full.completionTokens()).isEqualTo(12);
      assertThat(full.finishReason()).isEqualTo("length");
      assertThat(full.text()).hasSizeGreaterThan(4);
      String stop = full.text().substring(3, 5);
      StringBuilder cut = new StringBuilder();
      Completion stopped = server.complete("t", model, adapters[1], new Prompt.Text("the river"), GREEDY, List.of(stop), cut::append);
      assertThat(stopped.text()).isEqualTo(full.text().substring(0, full.text().indexOf(stop)));
      assertThat(cut.toString()).isEqualTo(stopped.text());
      assertThat(stopped.finishReason()).isEqualTo("stop");
      assertThat(stopped.completionTokens()).isLessThan(12);
    }
  }

  @Test
  void chatUsesTheModelsTemplate() throws Exception {
    try (ModelServer server = new ModelServer(new ServingLimits(1L << 30, 1L << 30))) {
      Completion c = server.complete("t", model, null, new Prompt.Chat(List.of(new ChatMessage("user", "hello"))), GREEDY, List.of(), s -> {});
      Completion plain = server.complete("t", model, null, new Prompt.Text("hello"), GREEDY, List.of(), s -> {});
      assertThat(c.promptTokens()).isGreaterThan(plain.promptTokens());
    }
  }

  @Test
  void tenantsTakeTurns() throws Exception {
    FairTurns turns = new FairTurns();
    List<String> order = java.util.Collections.synchronizedList(new ArrayList<>());
    FairTurns.Turn held = turns.take("x");
    List<Thread> threads = new ArrayList<>();
    // Tenant a queues three requests before tenant b queues one: b goes second, not fourth.
    for (String tenant : new String[] {"a", "a", "a", "b"}) {
      Thread t = new Thread(() -> {
        try (FairTurns.Turn turn = turns.take(tenant)) {
          order.add(tenant);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      t.start();
      threads.add(t);
      while (turns.waiting() < threads.size()) {
        Thread.sleep(5);
      }
    }
    held.close();
    for (Thread t : threads) {
      t.join(10_000);
    }
    assertThat(order).containsExactly("a", "b", "a", "a");
  }
}

package io.peftplatform.worker.service;

import io.peftplatform.adapters.AdaptedModel;
import io.peftplatform.events.ObjectRef;
import io.peftplatform.llama.LlamaModel;
import io.peftplatform.llama.ModelDirectory;
import io.peftplatform.llama.generate.Generator;
import io.peftplatform.llama.generate.SamplingParams;
import io.peftplatform.storage.LocalCache;
import io.peftplatform.text.ChatMessage;
import io.peftplatform.text.ChatTemplate;
import io.peftplatform.text.Tokenizer;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Generates text with a model (and optionally an adapter) fetched from the bucket. The last few loaded
 * models stay in memory; requests are served one at a time (generation uses every core).
 */
@ApplicationScoped
public class GenerationService {
  private static final int KEEP_LOADED = 2;

  @Inject LocalCache cache;

  private final Map<String, LlamaModel> loaded = new LinkedHashMap<>(4, 0.75f, true);

  public record Completion(String text, int promptTokens, int completionTokens, String finishReason) {}

  public synchronized Completion generate(List<ObjectRef> modelFiles, List<ObjectRef> adapterFiles, String prompt, boolean chat,
      SamplingParams params) {
    Path modelDir = cache.directory("model", modelFiles);
    Path adapterDir = adapterFiles == null || adapterFiles.isEmpty() ? null
        : cache.directory("adapter", adapterFiles);
    String key = modelDir + "|" + adapterDir;
    LlamaModel model = loaded.computeIfAbsent(key, k -> AdaptedModel.load(modelDir, adapterDir, DataType.FLOAT));
    while (loaded.size() > KEEP_LOADED) {
      loaded.remove(loaded.keySet().iterator().next());
    }
    try (Tokenizer tokenizer = ModelDirectory.tokenizer(modelDir)) {
      int[] input = chat
          ? tokenizer.encode(ChatTemplate.forTokenizer(tokenizer).render(List.of(new ChatMessage("user", prompt)), true), false)
          : tokenizer.encode(prompt, true);
      Set<Integer> stop = new HashSet<>(model.config().eosTokenIds());
      tokenizer.eosTokenId().ifPresent(stop::add);
      Generator.Result r = new Generator(model, stop).generate(input, params, t -> {});
      int[] shown = r.finishReason().equals(Generator.Result.STOP) ? java.util.Arrays.copyOf(r.tokens(), r.tokens().length - 1) : r.tokens();
      return new Completion(tokenizer.decode(shown, true), input.length, r.tokens().length, r.finishReason());
    }
  }
}

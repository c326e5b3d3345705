package io.peftplatform.llama;

import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.config.ModelException;
import io.peftplatform.text.ChatTemplate;
import io.peftplatform.text.Tokenizer;
import io.peftplatform.text.dataset.ExampleEncoder;
import io.peftplatform.text.dataset.JsonlReader;
import io.peftplatform.text.dataset.TokenizedExample;
import io.peftplatform.text.dataset.TrainingRecord;
import java.nio.file.Path;
import java.util.List;

/** JSONL files turned into labelled token sequences for a given model. */
public final class Examples {
  private Examples() {}

  /** The id that ends every example: the tokenizer's EOS token, else config.json's first eos_token_id. */
  public static int eosTokenId(Tokenizer tokenizer, LlamaConfig config) {
    if (tokenizer.eosTokenId().isPresent()) {
      return tokenizer.eosTokenId().getAsInt();
    }
    if (!config.eosTokenIds().isEmpty()) {
      return config.eosTokenIds().get(0);
    }
    throw new ModelException("the model defines no end-of-sequence token (tokenizer_config.json eos_token or config.json eos_token_id)");
  }

  /** The id written into padding positions (never attended to or scored). */
  public static int padTokenId(Tokenizer tokenizer, LlamaConfig config) {
    return tokenizer.padTokenId().orElse(eosTokenId(tokenizer, config));
  }

  public static ExampleEncoder encoder(Tokenizer tokenizer, LlamaConfig config, int maxSeqLen, boolean trainOnInputs) {
    int limit = Math.min(maxSeqLen, config.maxPositionEmbeddings());
    return new ExampleEncoder(tokenizer, ChatTemplate.forTokenizer(tokenizer), eosTokenId(tokenizer, config), limit, trainOnInputs);
  }

  public static List<TokenizedExample> load(Path jsonl, Tokenizer tokenizer, LlamaConfig config, int maxSeqLen, boolean trainOnInputs) {
    List<TrainingRecord> records = JsonlReader.read(jsonl);
    ExampleEncoder encoder = encoder(tokenizer, config, maxSeqLen, trainOnInputs);
    return records.stream().map(encoder::encode).toList();
  }
}

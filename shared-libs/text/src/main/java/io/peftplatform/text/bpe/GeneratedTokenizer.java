package io.peftplatform.text.bpe;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftplatform.text.ChatTemplate;
import io.peftplatform.text.Tokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The tokenizer of generated checkpoints: byte-level BPE trained on a small corpus bundled with this
 * library, with SmolLM2's special tokens and a ChatML chat template.
 *
 * <ul>
 *   <li>id 0 {@code <|endoftext|>}: BOS and EOS
 *   <li>id 1 {@code <|im_start|>}, id 2 {@code <|im_end|>}: chat turns
 * </ul>
 */
public final class GeneratedTokenizer {
  public static final String END_OF_TEXT = "<|endoftext|>";
  public static final String IM_START = "<|im_start|>";
  public static final String IM_END = "<|im_end|>";
  public static final List<String> SPECIAL_TOKENS = List.of(END_OF_TEXT, IM_START, IM_END);
  public static final int END_OF_TEXT_ID = 0;
  public static final int IM_END_ID = 2;

  private GeneratedTokenizer() {}

  /** The bundled training corpus. */
  public static String corpus() {
    try (InputStream in = GeneratedTokenizer.class.getResourceAsStream("/io/peftplatform/text/corpus.txt")) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Trains on the bundled corpus up to {@code maxVocab} tokens (fewer when the corpus runs out of
   * pairs seen twice) and writes tokenizer.json and tokenizer_config.json into {@code dir}.
   *
   * @return the number of tokens in the vocabulary
   */
  public static int write(Path dir, int maxVocab, int modelMaxLength) {
    var vocab = new ByteLevelBpeTrainer(maxVocab, 2, SPECIAL_TOKENS).train(corpus());
    ByteLevelBpeTrainer.writeTokenizerJson(vocab, dir.resolve(Tokenizer.TOKENIZER_JSON));
    ObjectMapper json = new ObjectMapper();
    ObjectNode config = json.createObjectNode();
    config.put("tokenizer_class", "GPT2Tokenizer");
    config.put("bos_token", END_OF_TEXT);
    config.put("eos_token", END_OF_TEXT);
    config.put("unk_token", END_OF_TEXT);
    config.put("add_prefix_space", false);
    config.put("clean_up_tokenization_spaces", false);
    config.put("model_max_length", modelMaxLength);
    config.putArray("additional_special_tokens").add(IM_START).add(IM_END);
    config.put("chat_template", ChatTemplate.DEFAULT_CHATML);
    try {
      Files.writeString(dir.resolve(Tokenizer.TOKENIZER_CONFIG_JSON), json.writerWithDefaultPrettyPrinter().writeValueAsString(config));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return vocab.size();
  }
}

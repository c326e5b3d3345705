package io.peftplatform.text;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A model directory's tokenizer: {@code tokenizer.json} encoded by Hugging Face's own tokenizers library
 * (through DJL), plus what {@code tokenizer_config.json} adds — the special tokens and the chat template.
 */
public final class Tokenizer implements AutoCloseable {
  public static final String TOKENIZER_JSON = "tokenizer.json";
  public static final String TOKENIZER_CONFIG_JSON = "tokenizer_config.json";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final HuggingFaceTokenizer hf;
  private final Map<String, Integer> tokenIds; // vocabulary and added tokens
  private final int vocabSize;
  private final String bosToken;
  private final String eosToken;
  private final String padToken;
  private final String chatTemplate;

  private Tokenizer(
      HuggingFaceTokenizer hf,
      Map<String, Integer> tokenIds,
      String bosToken,
      String eosToken,
      String padToken,
      String chatTemplate) {
    this.hf = hf;
    this.tokenIds = tokenIds;
    this.vocabSize = tokenIds.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
    this.bosToken = bosToken;
    this.eosToken = eosToken;
    this.padToken = padToken;
    this.chatTemplate = chatTemplate;
  }

  /** Loads {@code tokenizer.json} (required) and {@code tokenizer_config.json} (optional) from a directory. */
  public static Tokenizer load(Path modelDir) {
    Path tokenizerJson = modelDir.resolve(TOKENIZER_JSON);
    if (!Files.isRegularFile(tokenizerJson)) {
      throw new TextException(modelDir + ": no " + TOKENIZER_JSON);
    }
    Map<String, Integer> ids = new HashMap<>();
    try {
      JsonNode root = JSON.readTree(tokenizerJson.toFile());
      root.path("model").path("vocab").fields().forEachRemaining(e -> ids.put(e.getKey(), e.getValue().asInt()));
      root.path("added_tokens").forEach(t -> ids.put(t.path("content").asText(), t.path("id").asInt()));
    } catch (IOException e) {
      throw new TextException(tokenizerJson + ": not valid JSON: " + e.getMessage(), e);
    }
    JsonNode config = JSON.createObjectNode();
    Path configPath = modelDir.resolve(TOKENIZER_CONFIG_JSON);
    if (Files.isRegularFile(configPath)) {
      try {
        config = JSON.readTree(configPath.toFile());
      } catch (IOException e) {
        throw new TextException(configPath + ": not valid JSON: " + e.getMessage(), e);
      }
    }
    HuggingFaceTokenizer hf;
    try {
      hf =
          HuggingFaceTokenizer.builder()
              .optTokenizerPath(tokenizerJson)
              .optAddSpecialTokens(true)
              .optTruncation(false)
              .optPadding(false)
              .build();
    } catch (IOException | RuntimeException e) {
      throw new TextException(tokenizerJson + ": cannot load tokenizer: " + e.getMessage(), e);
    }
    return new Tokenizer(
        hf,
        ids,
        specialToken(config, "bos_token"),
        specialToken(config, "eos_token"),
        specialToken(config, "pad_token"),
        config.path("chat_template").isTextual() ? config.path("chat_template").asText() : null);
  }

  /** tokenizer_config.json writes special tokens as a string or as {"content": ...}. */
  private static String specialToken(JsonNode config, String key) {
    JsonNode n = config.path(key);
    if (n.isTextual()) {
      return n.asText();
    }
    if (n.isObject() && n.path("content").isTextual()) {
      return n.path("content").asText();
    }
    return null;
  }

  /** Token ids and, for each, the [start, end) range of characters of the text it came from. */
  public record Encoded(int[] ids, int[] starts, int[] ends) {}

  public int[] encode(String text, boolean addSpecialTokens) {
    return toInts(hf.encode(text, addSpecialTokens, false).getIds());
  }

  public Encoded encodeWithOffsets(String text, boolean addSpecialTokens) {
    Encoding e = hf.encode(text, addSpecialTokens, false);
    CharSpan[] spans = e.getCharTokenSpans();
    int[] starts = new int[spans.length];
    int[] ends = new int[spans.length];
    // The tokenizers library counts characters as code points; Java strings count UTF-16 units.
    int[] charIndex = codePointToCharIndex(text);
    for (int i = 0; i < spans.length; i++) {
      // Added special tokens produced by the post-processor have no span.
      starts[i] = spans[i] == null ? -1 : charIndex[spans[i].getStart()];
      ends[i] = spans[i] == null ? -1 : charIndex[spans[i].getEnd()];
    }
    return new Encoded(toInts(e.getIds()), starts, ends);
  }

  private static int[] codePointToCharIndex(String text) {
    int[] index = new int[text.codePointCount(0, text.length()) + 1];
    int cp = 0;
    for (int i = 0; i < text.length(); i += Character.charCount(text.codePointAt(i))) {
      index[cp++] = i;
    }
    index[cp] = text.length();
    return index;
  }

  public String decode(int[] ids, boolean skipSpecialTokens) {
    long[] l = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      l[i] = ids[i];
    }
    return hf.decode(l, skipSpecialTokens);
  }

  /** The id of a token string (vocabulary entry or added token). */
  public OptionalInt tokenId(String token) {
    Integer id = token == null ? null : tokenIds.get(token);
    return id == null ? OptionalInt.empty() : OptionalInt.of(id);
  }

  /** One more than the largest token id the tokenizer can produce. */
  public int vocabSize() {
    return vocabSize;
  }

  public Optional<String> bosToken() {
    return Optional.ofNullable(bosToken);
  }

  public Optional<String> eosToken() {
    return Optional.ofNullable(eosToken);
  }

  public OptionalInt bosTokenId() {
    return tokenId(bosToken);
  }

  public OptionalInt eosTokenId() {
    return tokenId(eosToken);
  }

  public OptionalInt padTokenId() {
    return tokenId(padToken);
  }

  /** The Jinja chat template from tokenizer_config.json, if the model has one. */
  public Optional<String> chatTemplate() {
    return Optional.ofNullable(chatTemplate);
  }

  private static int[] toInts(long[] ids) {
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = Math.toIntExact(ids[i]);
    }
    return out;
  }

  @Override
  public void close() {
    hf.close();
  }
}

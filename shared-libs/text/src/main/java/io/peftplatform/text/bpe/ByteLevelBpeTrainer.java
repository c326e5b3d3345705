package io.peftplatform.text.bpe;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Trains a byte-level BPE tokenizer (the GPT-2 / Llama 3 / SmolLM family) on a text corpus and writes it
 * as a Hugging Face {@code tokenizer.json}, which any tokenizers implementation then encodes with.
 *
 * <p>Training: split the corpus with the GPT-2 pre-tokenization pattern, map each word's UTF-8 bytes to
 * the printable byte alphabet, then repeatedly merge the most frequent adjacent pair of symbols (ties:
 * the lexicographically smallest pair, so training is deterministic) until the vocabulary is full or no
 * pair occurs at least {@code minFrequency} times. Ids: special tokens first, then the 256 byte symbols
 * in byte order, then one token per merge.
 */
public final class ByteLevelBpeTrainer {
  /** GPT-2's pre-tokenizer pattern, which Hugging Face's ByteLevel pre-tokenizer uses. */
  static final Pattern GPT2_SPLIT =
      Pattern.compile(
          "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");

  private final int vocabSize;
  private final int minFrequency;
  private final List<String> specialTokens;

  public ByteLevelBpeTrainer(int vocabSize, int minFrequency, List<String> specialTokens) {
    if (vocabSize < specialTokens.size() + 256) {
      throw new IllegalArgumentException(
          "vocabulary of " + vocabSize + " cannot hold 256 bytes and " + specialTokens.size() + " special tokens");
    }
    this.vocabSize = vocabSize;
    this.minFrequency = minFrequency;
    this.specialTokens = List.copyOf(specialTokens);
  }

  /** The result: token strings by id and merges in rank order. */
  public record Vocabulary(List<String> specialTokens, List<String> tokens, List<String[]> merges) {
    public int size() {
      return tokens.size();
    }
  }

  public Vocabulary train(String corpus) {
    Map<String, Integer> wordCounts = new HashMap<>();
    Matcher m = GPT2_SPLIT.matcher(corpus);
    while (m.find()) {
      wordCounts.merge(ByteLevel.encode(m.group().getBytes(StandardCharsets.UTF_8)), 1, Integer::sum);
    }
    List<Word> words = new ArrayList<>();
    wordCounts.entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(e -> words.add(new Word(ByteLevel.symbols(e.getKey()), e.getValue())));

    List<String> tokens = new ArrayList<>(specialTokens);
    for (int b = 0; b < 256; b++) {
      tokens.add(String.valueOf(ByteLevel.byteToChar(b)));
    }
    List<String[]> merges = new ArrayList<>();
    while (tokens.size() < vocabSize) {
      String[] best = mostFrequentPair(words);
      if (best == null) {
        break;
      }
      merges.add(best);
      String merged = best[0] + best[1];
      tokens.add(merged);
      for (Word w : words) {
        w.merge(best[0], best[1], merged);
      }
    }
    return new Vocabulary(specialTokens, tokens, merges);
  }

  private String[] mostFrequentPair(List<Word> words) {
    Map<String, int[]> counts = new HashMap<>();
    Map<String, String[]> pairs = new HashMap<>();
    for (Word w : words) {
      for (int i = 0; i + 1 < w.symbols.size(); i++) {
        String a = w.symbols.get(i);
        String b = w.symbols.get(i + 1);
        String key = a + '\u0000' + b;
        counts.computeIfAbsent(key, k -> new int[1])[0] += w.count;
        pairs.putIfAbsent(key, new String[] {a, b});
      }
    }
    String bestKey = null;
    int bestCount = minFrequency - 1;
    for (Map.Entry<String, int[]> e : counts.entrySet()) {
      int c = e.getValue()[0];
      if (c > bestCount || (c == bestCount && bestKey != null && e.getKey().compareTo(bestKey) < 0)) {
        bestCount = c;
        bestKey = e.getKey();
      }
    }
    return bestKey == null ? null : pairs.get(bestKey);
  }

  private static final class Word {
    final List<String> symbols;
    final int count;

    Word(List<String> symbols, int count) {
      this.symbols = symbols;
      this.count = count;
    }

    void merge(String a, String b, String merged) {
      for (int i = 0; i + 1 < symbols.size(); i++) {
        if (symbols.get(i).equals(a) && symbols.get(i + 1).equals(b)) {
          symbols.set(i, merged);
          symbols.remove(i + 1);
        }
      }
    }
  }

  /** Writes {@code tokenizer.json} in the Hugging Face tokenizers format (BPE model, ByteLevel steps). */
  public static void writeTokenizerJson(Vocabulary vocab, Path file) {
    ObjectMapper json = new ObjectMapper();
    ObjectNode root = json.createObjectNode();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    ArrayNode added = root.putArray("added_tokens");
    for (int i = 0; i < vocab.specialTokens().size(); i++) {
      ObjectNode t = added.addObject();
      t.put("id", i);
      t.put("content", vocab.specialTokens().get(i));
      t.put("single_word", false);
      t.put("lstrip", false);
      t.put("rstrip", false);
      t.put("normalized", false);
      t.put("special", true);
    }
    root.putNull("normalizer");
    // As GPT-2's tokenizer.json: offsets of the post-processed encoding keep leading spaces.
    root.set("pre_tokenizer", byteLevelStep(json, true));
    root.set("post_processor", byteLevelStep(json, false));
    root.set("decoder", byteLevelStep(json, true));
    ObjectNode model = root.putObject("model");
    model.put("type", "BPE");
    model.putNull("dropout");
    model.putNull("unk_token");
    model.putNull("continuing_subword_prefix");
    model.putNull("end_of_word_suffix");
    model.put("fuse_unk", false);
    model.put("byte_fallback", false);
    model.put("ignore_merges", false);
    ObjectNode vocabNode = model.putObject("vocab");
    Map<String, Integer> ids = new LinkedHashMap<>();
    for (int i = 0; i < vocab.tokens().size(); i++) {
      ids.putIfAbsent(vocab.tokens().get(i), i);
    }
    ids.forEach(vocabNode::put);
    ArrayNode merges = model.putArray("merges");
    vocab.merges().forEach(p -> merges.add(p[0] + " " + p[1]));
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Files.writeString(file, json.writerWithDefaultPrettyPrinter().writeValueAsString(root));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static ObjectNode byteLevelStep(ObjectMapper json, boolean trimOffsets) {
    ObjectNode n = json.createObjectNode();
    n.put("type", "ByteLevel");
    n.put("add_prefix_space", false);
    n.put("trim_offsets", trimOffsets);
    n.put("use_regex", true);
    return n;
  }
}

package io.peftplatform.text.bpe;

import static org.assertj.core.api.Assertions.assertThat;

import io.peftplatform.text.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ByteLevelBpeTrainerTest {
  private static final List<String> SPECIAL = List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>");
  private static final String CORPUS =
      "the cat sat on the mat. the cat ate the rat. the mat was flat, the rat was fat.\n";

  @Test
  void mergesTheMostFrequentPairsFirst() {
    var vocab = new ByteLevelBpeTrainer(300, 2, SPECIAL).train(CORPUS);
    // "at" occurs 10 times (cat x2, sat, mat x2, ate, rat x2, flat, fat), more than any other pair
    // ("th" and "he" 6, "Ġt" 5): it is the first merge.
    assertThat(vocab.merges().get(0)).containsExactly("a", "t");
    assertThat(vocab.tokens().subList(0, 3)).isEqualTo(SPECIAL);
    assertThat(vocab.tokens().get(3 + 'a')).isEqualTo("a");
    assertThat(vocab.size()).isLessThanOrEqualTo(300).isEqualTo(3 + 256 + vocab.merges().size());
  }

  @Test
  void isDeterministic() {
    var a = new ByteLevelBpeTrainer(320, 2, SPECIAL).train(CORPUS);
    var b = new ByteLevelBpeTrainer(320, 2, SPECIAL).train(CORPUS);
    assertThat(a.tokens()).isEqualTo(b.tokens());
  }

  @Test
  void writesATokenizerThatRoundTripsAnyText(@TempDir Path dir) throws IOException {
    var vocab = new ByteLevelBpeTrainer(400, 2, SPECIAL).train(CORPUS);
    ByteLevelBpeTrainer.writeTokenizerJson(vocab, dir.resolve("tokenizer.json"));
    try (Tokenizer tok = Tokenizer.load(dir)) {
      for (String s : List.of("the cat sat on the mat.", "Zürich, 東京 and 😀!", "  two  spaces\n\ttab")) {
        assertThat(tok.decode(tok.encode(s, true), false)).isEqualTo(s);
      }
      // Trained merges compress the training text well below one token per byte.
      assertThat(tok.encode(CORPUS, false).length).isLessThan(CORPUS.length() / 2);
      assertThat(tok.encode("<|im_start|>user", false)[0]).isEqualTo(1);
    }
    assertThat(Files.readString(dir.resolve("tokenizer.json"))).contains("\"type\" : \"BPE\"");
  }
}

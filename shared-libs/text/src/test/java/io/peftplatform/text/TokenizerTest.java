package io.peftplatform.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URISyntaxException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerTest {
  static Tokenizer tokenizer;

  @BeforeAll
  static void load() throws URISyntaxException {
    tokenizer =
        Tokenizer.load(Path.of(TokenizerTest.class.getResource("/hand-built-tokenizer").toURI()));
  }

  @AfterAll
  static void close() {
    tokenizer.close();
  }

  @Test
  void encodesToTheIdsWorkedOutByHand() {
    // See src/test/resources/hand-built-tokenizer/README.md for the derivation.
    assertThat(tokenizer.encode("hello world", true)).containsExactly(258, 111, 259, 260, 108, 100);
    assertThat(tokenizer.encode("hell", false)).containsExactly(258);
    assertThat(tokenizer.encode("ehl", false)).containsExactly('e', 'h', 'l');
    // Bytes of a non-ASCII character each become a token: é is C3 A9 in UTF-8.
    assertThat(tokenizer.encode("é", false)).containsExactly(0xC3, 0xA9);
    assertThat(tokenizer.encode("hi<|endoftext|>", false)).containsExactly('h', 'i', 261);
  }

  @Test
  void decodesBackToTheText() {
    assertThat(tokenizer.decode(new int[] {258, 111, 259, 260, 108, 100}, false)).isEqualTo("hello world");
    assertThat(tokenizer.decode(new int[] {0xC3, 0xA9, 261}, false)).isEqualTo("é<|endoftext|>");
    assertThat(tokenizer.decode(new int[] {0xC3, 0xA9, 261}, true)).isEqualTo("é");
  }

  @Test
  void offsetsAreJavaStringIndicesEvenPastSurrogatePairs() {
    String text = "😀 hello";
    Tokenizer.Encoded e = tokenizer.encodeWithOffsets(text, false);
    int last = e.ids().length - 1;
    assertThat(e.ids()[last]).isEqualTo('o');
    assertThat(text.substring(e.starts()[last], e.ends()[last])).isEqualTo("o");
    assertThat(text.substring(e.starts()[last - 1], e.ends()[last - 1]).strip()).isEqualTo("hell");
  }

  @Test
  void readsSpecialTokensFromTokenizerConfig() {
    assertThat(tokenizer.eosTokenId()).hasValue(261);
    assertThat(tokenizer.bosToken()).hasValue("<|endoftext|>");
    assertThat(tokenizer.padTokenId()).isEmpty();
    assertThat(tokenizer.vocabSize()).isEqualTo(262);
    assertThat(tokenizer.chatTemplate()).isEmpty();
  }

  @Test
  void aDirectoryWithoutTokenizerJsonIsAClearError(@TempDir Path dir) {
    assertThatThrownBy(() -> Tokenizer.load(dir))
        .isInstanceOf(TextException.class)
        .hasMessageContaining("no tokenizer.json");
  }
}

package io.peftplatform.text.dataset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.peftplatform.text.ChatMessage;
import io.peftplatform.text.ChatTemplate;
import io.peftplatform.text.Tokenizer;
import io.peftplatform.text.bpe.ByteLevelBpeTrainer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExampleEncoderTest {
  @TempDir static Path dir;
  static Tokenizer tokenizer;
  static int eos;

  @BeforeAll
  static void trainTokenizer() {
    var vocab =
        new ByteLevelBpeTrainer(400, 2, List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>"))
            .train("the user asked and the assistant answered the question about the weather\n".repeat(3));
    ByteLevelBpeTrainer.writeTokenizerJson(vocab, dir.resolve("tokenizer.json"));
    tokenizer = Tokenizer.load(dir);
    eos = tokenizer.tokenId("<|endoftext|>").orElseThrow();
  }

  @AfterAll
  static void close() {
    tokenizer.close();
  }

  private ExampleEncoder encoder(int maxLen, boolean trainOnInputs) {
    return new ExampleEncoder(
        tokenizer, new ChatTemplate(ChatTemplate.DEFAULT_CHATML, null, null), eos, maxLen, trainOnInputs);
  }

  /** The text of the labelled tokens, in order. */
  private String labelledText(TokenizedExample e) {
    int[] ids = IntStream.range(0, e.length()).filter(i -> e.labels()[i] != TokenizedExample.IGNORE).map(i -> e.inputIds()[i]).toArray();
    return tokenizer.decode(ids, false);
  }

  @Test
  void textIsTheEncodingFollowedByEosAllLabelled() {
    TokenizedExample e = encoder(64, false).encode(new TrainingRecord.Text("the weather"));
    int[] plain = tokenizer.encode("the weather", true);
    assertThat(e.inputIds()).startsWith(plain).endsWith(eos).hasSize(plain.length + 1);
    assertThat(e.labels()).isEqualTo(e.inputIds());
    assertThat(e.predictedTokens()).isEqualTo(plain.length);
  }

  @Test
  void promptCompletionLabelsTheCompletionAndEosOnly() {
    TokenizedExample e = encoder(64, false).encode(new TrainingRecord.PromptCompletion("the user asked", " the answer"));
    assertThat(labelledText(e)).isEqualTo(" the answer<|endoftext|>");
    assertThat(tokenizer.decode(e.inputIds(), false)).isEqualTo("the user asked the answer<|endoftext|>");
    TokenizedExample all = encoder(64, true).encode(new TrainingRecord.PromptCompletion("the user asked", " the answer"));
    assertThat(all.labels()).isEqualTo(all.inputIds());
  }

  @Test
  void chatLabelsEachAssistantTurnThroughItsEndMarker() {
    var chat =
        new TrainingRecord.Chat(
            List.of(
                new ChatMessage("system", "the weather"),
                new ChatMessage("user", "the question"),
                new ChatMessage("assistant", "the answer"),
                new ChatMessage("user", "and the weather"),
                new ChatMessage("assistant", "asked and answered")));
    TokenizedExample e = encoder(256, false).encode(chat);
    assertThat(tokenizer.decode(e.inputIds(), false))
        .isEqualTo(new ChatTemplate(ChatTemplate.DEFAULT_CHATML, null, null).render(chat.messages(), false));
    assertThat(labelledText(e)).isEqualTo("the answer<|im_end|>\nasked and answered<|im_end|>\n");
  }

  @Test
  void preferencePairsLabelOnlyTheirAnswers() {
    var input = List.of(new ChatMessage("user", "the question"), new ChatMessage("assistant", "the answer"),
        new ChatMessage("user", "and the weather"));
    var chosen = new java.util.ArrayList<>(input);
    chosen.add(new ChatMessage("assistant", "asked and answered"));
    var rejected = new java.util.ArrayList<>(input);
    rejected.add(new ChatMessage("assistant", "the weather"));
    PreferencePair chat = encoder(256, true).encodePair(new TrainingRecord.Preference(TrainingRecord.Preference.CHAT_FORM,
        new TrainingRecord.Chat(chosen), new TrainingRecord.Chat(rejected), input.size()));
    // The earlier assistant turn is prompt; train-on-inputs does not apply to pairs.
    assertThat(labelledText(chat.chosen())).isEqualTo("asked and answered<|im_end|>\n");
    assertThat(labelledText(chat.rejected())).isEqualTo("the weather<|im_end|>\n");

    PreferencePair plain = encoder(64, false).encodePair(new TrainingRecord.Preference(TrainingRecord.Preference.PLAIN_FORM,
        new TrainingRecord.PromptCompletion("the user asked", " the answer"),
        new TrainingRecord.PromptCompletion("the user asked", " the weather"), 0));
    assertThat(labelledText(plain.chosen())).isEqualTo(" the answer<|endoftext|>");
    assertThat(labelledText(plain.rejected())).isEqualTo(" the weather<|endoftext|>");
    assertThatThrownBy(() -> encoder(64, false).encode(new TrainingRecord.Preference(TrainingRecord.Preference.PLAIN_FORM,
        new TrainingRecord.PromptCompletion("a", "b"), new TrainingRecord.PromptCompletion("a", "c"), 0)))
        .hasMessageContaining("preference pair: train on it with DPO");
  }

  @Test
  void longExamplesAreCutToTheMaximumLength() {
    TokenizedExample e = encoder(5, false).encode(new TrainingRecord.Text("the user asked the assistant about the weather"));
    assertThat(e.length()).isEqualTo(5);
    assertThat(e.inputIds()).isEqualTo(Arrays.copyOf(tokenizer.encode("the user asked the assistant about the weather", true), 5));
  }

  @Test
  void paddedBatchShiftsLabelsIntoTargetsAndMasksPadding() {
    var a = new TokenizedExample(new int[] {5, 6, 7}, new int[] {-100, 6, 7});
    var b = new TokenizedExample(new int[] {8, 9}, new int[] {8, 9});
    PaddedBatch batch = PaddedBatch.of(List.of(a, b), 0);
    assertThat(batch.seqLen()).isEqualTo(3);
    assertThat(batch.tokens()).containsExactly(5, 6, 7, 8, 9, 0);
    assertThat(batch.targets()).containsExactly(6, 7, -100, 9, -100, -100);
    assertThat(batch.attentionMask()).containsExactly(1, 1, 1, 1, 1, 0);
    assertThat(batch.predictedTokens()).isEqualTo(3);
  }
}

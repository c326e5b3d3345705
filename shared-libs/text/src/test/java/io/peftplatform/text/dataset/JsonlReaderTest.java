package io.peftplatform.text.dataset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.peftplatform.text.ChatMessage;
import io.peftplatform.text.TextException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonlReaderTest {
  @TempDir Path dir;

  private Path file(String... lines) throws IOException {
    Path f = dir.resolve("data.jsonl");
    Files.writeString(f, String.join("\n", lines) + "\n");
    return f;
  }

  @Test
  void readsEachForm() throws IOException {
    assertThat(JsonlReader.read(file("{\"text\": \"a b\", \"id\": 7}", "", "{\"text\": \"c\"}")))
        .containsExactly(new TrainingRecord.Text("a b"), new TrainingRecord.Text("c"));
    assertThat(JsonlReader.read(file("{\"prompt\": \"Q: \", \"completion\": \"A\"}")))
        .containsExactly(new TrainingRecord.PromptCompletion("Q: ", "A"));
    assertThat(
            JsonlReader.read(
                file(
                    "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"},"
                        + " {\"role\": \"assistant\", \"content\": \"yo\"}]}")))
        .containsExactly(
            new TrainingRecord.Chat(
                java.util.List.of(new ChatMessage("user", "hi"), new ChatMessage("assistant", "yo"))));
  }

  @Test
  void badLinesNameFileLineAndField() throws IOException {
    Path f = file("{\"text\": \"ok\"}", "{\"text\": 3}");
    assertThatThrownBy(() -> JsonlReader.read(f))
        .isInstanceOf(DatasetException.class)
        .hasMessage(f + ":2: field 'text': must be a string, got a number")
        .satisfies(e -> assertThat(((DatasetException) e).line()).isEqualTo(2));

    assertThatThrownBy(() -> JsonlReader.read(file("{\"text\": \"ok\"", "")))
        .hasMessageContaining("data.jsonl:1: not valid JSON");
    assertThatThrownBy(() -> JsonlReader.read(file("[1, 2]")))
        .hasMessageContaining(":1: expected a JSON object");
    assertThatThrownBy(() -> JsonlReader.read(file("{\"prompt\": \"p\"}")))
        .hasMessageContaining(":1: field 'completion': is missing");
    assertThatThrownBy(() -> JsonlReader.read(file("{\"question\": \"x\"}")))
        .hasMessageContaining("expected a \"text\" field");
    assertThatThrownBy(() -> JsonlReader.read(file("{\"text\": \"x\", \"prompt\": \"p\", \"completion\": \"c\"}")))
        .hasMessageContaining("mixes the fields of several forms");
    assertThatThrownBy(
            () ->
                JsonlReader.read(
                    file("{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"robot\", \"content\": \"b\"}]}")))
        .hasMessageContaining(":1: field 'messages[1].role': must be one of [assistant, system, tool, user], got \"robot\"");
    assertThatThrownBy(() -> JsonlReader.read(file("{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}]}")))
        .hasMessageContaining("field 'messages': has no assistant message");
    assertThatThrownBy(() -> JsonlReader.read(file("{\"messages\": [{\"role\": \"assistant\"}]}")))
        .hasMessageContaining("field 'messages[0].content': is missing");
  }

  @Test
  void readsPreferencePairsInOpenAisFormAndAsPromptChosenRejected() throws IOException {
    var user = new ChatMessage("user", "q");
    assertThat(JsonlReader.read(file("{\"input\": {\"messages\": [{\"role\": \"user\", \"content\": \"q\"}]},"
        + " \"preferred_output\": [{\"role\": \"assistant\", \"content\": \"good\"}],"
        + " \"non_preferred_output\": [{\"role\": \"assistant\", \"content\": \"bad\"}]}")))
        .containsExactly(new TrainingRecord.Preference(TrainingRecord.Preference.CHAT_FORM,
            new TrainingRecord.Chat(java.util.List.of(user, new ChatMessage("assistant", "good"))),
            new TrainingRecord.Chat(java.util.List.of(user, new ChatMessage("assistant", "bad"))), 1));
    assertThat(JsonlReader.read(file("{\"prompt\": \"Q: \", \"chosen\": \"A\", \"rejected\": \"B\"}")))
        .containsExactly(new TrainingRecord.Preference(TrainingRecord.Preference.PLAIN_FORM,
            new TrainingRecord.PromptCompletion("Q: ", "A"), new TrainingRecord.PromptCompletion("Q: ", "B"), 0));
  }

  @Test
  void badPreferencePairsNameTheField() throws IOException {
    assertThatThrownBy(() -> JsonlReader.read(file("{\"prompt\": \"p\", \"chosen\": \"a\"}")))
        .hasMessageContaining(":1: field 'rejected': is missing");
    assertThatThrownBy(() -> JsonlReader.read(file("{\"prompt\": \"p\", \"chosen\": \"a\", \"rejected\": \"b\", \"completion\": \"c\"}")))
        .hasMessageContaining("mixes the fields of several forms");
    assertThatThrownBy(() -> JsonlReader.read(file("{\"input\": {\"messages\": [{\"role\": \"user\", \"content\": \"q\"}]},"
        + " \"preferred_output\": [{\"role\": \"user\", \"content\": \"x\"}], \"non_preferred_output\": []}")))
        .hasMessageContaining(":1: field 'preferred_output[0].role': must be assistant");
    assertThatThrownBy(() -> JsonlReader.read(file("{\"input\": {\"messages\": [{\"role\": \"user\", \"content\": \"q\"}]},"
        + " \"preferred_output\": [{\"role\": \"assistant\", \"content\": \"x\"}], \"non_preferred_output\": []}")))
        .hasMessageContaining(":1: field 'non_preferred_output': is empty");
    assertThatThrownBy(() -> JsonlReader.read(file("{\"input\": [], \"preferred_output\": [], \"non_preferred_output\": []}")))
        .hasMessageContaining(":1: field 'input': must be an object, got an array");
  }

  @Test
  void aFileMustUseOneForm() throws IOException {
    assertThatThrownBy(() -> JsonlReader.read(file("{\"text\": \"a\"}", "{\"prompt\": \"p\", \"completion\": \"c\"}")))
        .hasMessageContaining(":2: is a prompt/completion record but line 1 is a text record");
  }

  @Test
  void anEmptyOrMissingFileFails() throws IOException {
    assertThatThrownBy(() -> JsonlReader.read(file("", "  ")))
        .isInstanceOf(TextException.class)
        .hasMessageContaining("no records");
    assertThatThrownBy(() -> JsonlReader.read(dir.resolve("nope.jsonl"))).hasMessageContaining("no such file");
  }
}

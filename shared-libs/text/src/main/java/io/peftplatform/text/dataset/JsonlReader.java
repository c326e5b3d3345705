package io.peftplatform.text.dataset;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftplatform.text.ChatMessage;
import io.peftplatform.text.TextException;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * Reads JSONL training files. Each non-blank line is one JSON object in one of five forms —
 * {@code {"text"}}, {@code {"prompt","completion"}}, {@code {"messages"}} for supervised training;
 * OpenAI's {@code {"input": {"messages"}, "preferred_output", "non_preferred_output"}} and
 * {@code {"prompt","chosen","rejected"}} for preference pairs — and every line of a file must use the
 * same form. Other keys are ignored. The first bad line fails the read with its file, line number
 * and field.
 */
public final class JsonlReader {
  private static final ObjectMapper JSON = new ObjectMapper();

  private JsonlReader() {}

  /** A record and the 1-based line it came from. */
  public record Line(long number, TrainingRecord record) {}

  public static List<TrainingRecord> read(Path file) {
    return readLines(file).stream().map(Line::record).toList();
  }

  public static List<Line> readLines(Path file) {
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      return readLines(reader, file.toString());
    } catch (NoSuchFileException e) {
      throw new TextException(file + ": no such file");
    } catch (IOException e) {
      throw new TextException(file + ": cannot read: " + e.getMessage(), e);
    }
  }

  public static List<Line> readLines(Reader reader, String source) throws IOException {
    BoundedLineReader in = new BoundedLineReader(reader, BoundedLineReader.DEFAULT_MAX_CHARS);
    List<Line> out = new ArrayList<>();
    String firstForm = null;
    long firstFormLine = 0;
    long number = 0;
    while (true) {
      String text;
      try {
        text = in.readLine();
      } catch (BoundedLineReader.LineTooLong e) {
        throw new DatasetException(source, e.line(), null, "is longer than " + e.limit() + " characters");
      }
      if (text == null) {
        break;
      }
      number++;
      if (text.isBlank()) {
        continue;
      }
      TrainingRecord record = parseLine(source, number, text);
      if (firstForm == null) {
        firstForm = record.form();
        firstFormLine = number;
      } else if (!firstForm.equals(record.form())) {
        throw new DatasetException(
            source,
            number,
            null,
            "is a "
                + record.form()
                + " record but line "
                + firstFormLine
                + " is a "
                + firstForm
                + " record; use one form per file");
      }
      out.add(new Line(number, record));
    }
    if (out.isEmpty()) {
      throw new TextException(source + ": no records (the file is empty)");
    }
    return out;
  }

  /** Parses and validates one line. */
  public static TrainingRecord parseLine(String source, long lineNumber, String line) {
    JsonNode node;
    try {
      node = JSON.readTree(line);
    } catch (JsonProcessingException e) {
      throw new DatasetException(source, lineNumber, null, "not valid JSON: " + e.getOriginalMessage());
    }
    if (node == null || !node.isObject()) {
      throw new DatasetException(source, lineNumber, null, "expected a JSON object");
    }
    TreeSet<String> forms = new TreeSet<>();
    boolean plainPair = node.has("chosen") || node.has("rejected");
    if (node.has("messages")) {
      forms.add("messages");
    }
    if (node.has("input") || node.has("preferred_output") || node.has("non_preferred_output")) {
      forms.add(TrainingRecord.Preference.CHAT_FORM);
    }
    if (plainPair) {
      forms.add(TrainingRecord.Preference.PLAIN_FORM);
    }
    if ((node.has("prompt") && !plainPair) || node.has("completion")) {
      forms.add("prompt/completion");
    }
    if (node.has("text")) {
      forms.add("text");
    }
    if (forms.isEmpty()) {
      throw new DatasetException(
          source,
          lineNumber,
          null,
          "expected a \"text\" field, \"prompt\" and \"completion\" fields, a \"messages\" array, or a preference"
              + " pair (\"input\", \"preferred_output\" and \"non_preferred_output\"; or \"prompt\", \"chosen\" and"
              + " \"rejected\")");
    }
    if (forms.size() > 1) {
      throw new DatasetException(
          source, lineNumber, null, "mixes the fields of several forms " + forms + "; use one");
    }
    return switch (forms.first()) {
      case "messages" -> parseChat(source, lineNumber, node.get("messages"));
      case TrainingRecord.Preference.CHAT_FORM -> parseChatPreference(source, lineNumber, node);
      case TrainingRecord.Preference.PLAIN_FORM -> {
        String prompt = requireText(source, lineNumber, node, "prompt", true);
        yield new TrainingRecord.Preference(TrainingRecord.Preference.PLAIN_FORM,
            new TrainingRecord.PromptCompletion(prompt, requireText(source, lineNumber, node, "chosen", false)),
            new TrainingRecord.PromptCompletion(prompt, requireText(source, lineNumber, node, "rejected", false)), 0);
      }
      case "text" -> new TrainingRecord.Text(requireText(source, lineNumber, node, "text", false));
      default ->
          new TrainingRecord.PromptCompletion(
              requireText(source, lineNumber, node, "prompt", true),
              requireText(source, lineNumber, node, "completion", false));
    };
  }

  private static String requireText(
      String source, long line, JsonNode parent, String field, boolean mayBeEmpty) {
    JsonNode value = parent.get(field);
    if (value == null || value.isNull()) {
      throw new DatasetException(source, line, field, "is missing");
    }
    if (!value.isTextual()) {
      throw new DatasetException(source, line, field, "must be a string, got " + kind(value));
    }
    if (!mayBeEmpty && value.asText().isEmpty()) {
      throw new DatasetException(source, line, field, "is empty");
    }
    return value.asText();
  }

  /** OpenAI's preference line: the prompt's messages, then one answer each side, assistant turns only. */
  private static TrainingRecord.Preference parseChatPreference(String source, long line, JsonNode node) {
    JsonNode input = node.get("input");
    if (input == null || !input.isObject()) {
      throw new DatasetException(source, line, "input", input == null ? "is missing" : "must be an object, got " + kind(input));
    }
    if (input.get("messages") == null) {
      throw new DatasetException(source, line, "input.messages", "is missing");
    }
    List<ChatMessage> prompt = messages(source, line, input.get("messages"), "input.messages");
    List<ChatMessage> chosen = new ArrayList<>(prompt);
    List<ChatMessage> rejected = new ArrayList<>(prompt);
    chosen.addAll(answer(source, line, node, "preferred_output"));
    rejected.addAll(answer(source, line, node, "non_preferred_output"));
    return new TrainingRecord.Preference(TrainingRecord.Preference.CHAT_FORM, new TrainingRecord.Chat(chosen),
        new TrainingRecord.Chat(rejected), prompt.size());
  }

  private static List<ChatMessage> answer(String source, long line, JsonNode node, String field) {
    JsonNode value = node.get(field);
    if (value == null) {
      throw new DatasetException(source, line, field, "is missing");
    }
    List<ChatMessage> answer = messages(source, line, value, field);
    for (int i = 0; i < answer.size(); i++) {
      if (!answer.get(i).isAssistant()) {
        throw new DatasetException(source, line, field + "[" + i + "].role", "must be assistant: the answer is what is compared");
      }
    }
    return answer;
  }

  private static TrainingRecord.Chat parseChat(String source, long line, JsonNode messages) {
    List<ChatMessage> out = messages(source, line, messages, "messages");
    if (out.stream().noneMatch(ChatMessage::isAssistant)) {
      throw new DatasetException(
          source, line, "messages", "has no assistant message, so nothing to learn");
    }
    return new TrainingRecord.Chat(out);
  }

  private static List<ChatMessage> messages(String source, long line, JsonNode messages, String field) {
    if (!messages.isArray()) {
      throw new DatasetException(source, line, field, "must be an array, got " + kind(messages));
    }
    if (messages.isEmpty()) {
      throw new DatasetException(source, line, field, "is empty");
    }
    List<ChatMessage> out = new ArrayList<>(messages.size());
    for (int i = 0; i < messages.size(); i++) {
      JsonNode m = messages.get(i);
      String path = field + "[" + i + "]";
      if (!m.isObject()) {
        throw new DatasetException(source, line, path, "must be an object, got " + kind(m));
      }
      JsonNode role = m.get("role");
      if (role == null || !role.isTextual() || !ChatMessage.ROLES.contains(role.asText())) {
        throw new DatasetException(
            source,
            line,
            path + ".role",
            "must be one of "
                + new TreeSet<>(ChatMessage.ROLES)
                + (role == null ? ", but is missing" : ", got " + role));
      }
      JsonNode content = m.get("content");
      if (content == null || !content.isTextual()) {
        throw new DatasetException(
            source,
            line,
            path + ".content",
            content == null ? "is missing" : "must be a string, got " + kind(content));
      }
      out.add(new ChatMessage(role.asText(), content.asText()));
    }
    return out;
  }

  private static String kind(JsonNode n) {
    if (n.isNull()) {
      return "null";
    }
    if (n.isNumber()) {
      return "a number";
    }
    if (n.isBoolean()) {
      return "a boolean";
    }
    if (n.isArray()) {
      return "an array";
    }
    if (n.isObject()) {
      return "an object";
    }
    return "a string";
  }
}

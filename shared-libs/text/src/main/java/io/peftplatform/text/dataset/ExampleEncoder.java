package io.peftplatform.text.dataset;

import io.peftplatform.text.ChatMessage;
import io.peftplatform.text.ChatTemplate;
import io.peftplatform.text.TextException;
import io.peftplatform.text.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Turns training records into token ids and labels.
 *
 * <ul>
 *   <li>{@code text}: the tokenizer's encoding (with its special tokens) followed by EOS; all labelled.
 *   <li>{@code prompt/completion}: encode(prompt, with special tokens) + encode(completion) + EOS; the
 *       completion and EOS are labelled.
 *   <li>{@code messages}: the conversation rendered with the chat template and encoded as one text; the
 *       characters of each assistant turn (as far as the template renders it, end-of-turn marker
 *       included) are labelled. A turn's characters are those between the conversation rendered up to
 *       the turn with the generation prompt and the conversation rendered through the turn.
 * </ul>
 *
 * With {@code trainOnInputs} every token is labelled. Examples longer than {@code maxSeqLen} are cut at
 * the end. A preference pair ({@link #encodePair}) is two such examples labelled on their answers only.
 */
public final class ExampleEncoder {
  private final Tokenizer tokenizer;
  private final ChatTemplate template;
  private final int eosTokenId;
  private final int maxSeqLen;
  private final boolean trainOnInputs;

  public ExampleEncoder(
      Tokenizer tokenizer, ChatTemplate template, int eosTokenId, int maxSeqLen, boolean trainOnInputs) {
    if (maxSeqLen < 2) {
      throw new IllegalArgumentException("maximum sequence length must be at least 2, got " + maxSeqLen);
    }
    this.tokenizer = tokenizer;
    this.template = template;
    this.eosTokenId = eosTokenId;
    this.maxSeqLen = maxSeqLen;
    this.trainOnInputs = trainOnInputs;
  }

  public TokenizedExample encode(TrainingRecord record) {
    if (record instanceof TrainingRecord.Preference p) {
      throw new TextException("a " + p.form() + " record is a preference pair: train on it with DPO, or give supervised records");
    }
    return cut(encodeSide(record, 0, trainOnInputs));
  }

  /** Both sides of a pair, each labelled on its answer alone (never on the prompt). */
  public PreferencePair encodePair(TrainingRecord.Preference pair) {
    return new PreferencePair(cut(encodeSide(pair.chosen(), pair.promptTurns(), false)),
        cut(encodeSide(pair.rejected(), pair.promptTurns(), false)));
  }

  private TokenizedExample encodeSide(TrainingRecord record, int promptTurns, boolean labelInputs) {
    if (record instanceof TrainingRecord.Text t) {
      return encodeText(t);
    } else if (record instanceof TrainingRecord.PromptCompletion pc) {
      return encodePromptCompletion(pc, labelInputs);
    }
    return encodeChat((TrainingRecord.Chat) record, promptTurns, labelInputs);
  }

  private TokenizedExample cut(TokenizedExample full) {
    if (full.length() <= maxSeqLen) {
      return full;
    }
    return new TokenizedExample(
        Arrays.copyOf(full.inputIds(), maxSeqLen), Arrays.copyOf(full.labels(), maxSeqLen));
  }

  private TokenizedExample encodeText(TrainingRecord.Text t) {
    int[] ids = tokenizer.encode(t.text(), true);
    if (ids.length == 0 || ids[ids.length - 1] != eosTokenId) {
      ids = append(ids, eosTokenId);
    }
    return new TokenizedExample(ids, ids.clone());
  }

  private TokenizedExample encodePromptCompletion(TrainingRecord.PromptCompletion pc, boolean labelInputs) {
    int[] prompt = tokenizer.encode(pc.prompt(), true);
    int[] completion = append(tokenizer.encode(pc.completion(), false), eosTokenId);
    int[] ids = new int[prompt.length + completion.length];
    System.arraycopy(prompt, 0, ids, 0, prompt.length);
    System.arraycopy(completion, 0, ids, prompt.length, completion.length);
    int[] labels = ids.clone();
    if (!labelInputs) {
      Arrays.fill(labels, 0, prompt.length, TokenizedExample.IGNORE);
    }
    return new TokenizedExample(ids, labels);
  }

  /** Labels the assistant turns from message {@code firstScored} on (all of them with 0). */
  private TokenizedExample encodeChat(TrainingRecord.Chat chat, int firstScored, boolean labelInputs) {
    List<ChatMessage> messages = chat.messages();
    String full = template.render(messages, false);
    List<int[]> spans = new ArrayList<>();
    for (int i = firstScored; i < messages.size(); i++) {
      if (!messages.get(i).isAssistant()) {
        continue;
      }
      String before = template.render(messages.subList(0, i), true);
      String through = template.render(messages.subList(0, i + 1), false);
      if (!full.startsWith(before) || !full.startsWith(through) || through.length() < before.length()) {
        throw new TextException(
            "the chat template does not render a conversation's turns as prefixes of the whole"
                + " conversation, so assistant turns cannot be located; use --train-on-inputs or a"
                + " different template");
      }
      spans.add(new int[] {before.length(), through.length()});
    }
    Tokenizer.Encoded encoded = tokenizer.encodeWithOffsets(full, false);
    int[] ids = encoded.ids();
    int[] labels = ids.clone();
    if (!labelInputs) {
      for (int k = 0; k < ids.length; k++) {
        if (!insideAny(encoded.starts()[k], spans)) {
          labels[k] = TokenizedExample.IGNORE;
        }
      }
    }
    return new TokenizedExample(ids, labels);
  }

  private static boolean insideAny(int start, List<int[]> spans) {
    for (int[] s : spans) {
      if (start >= s[0] && start < s[1]) {
        return true;
      }
    }
    return false;
  }

  private static int[] append(int[] ids, int id) {
    int[] out = Arrays.copyOf(ids, ids.length + 1);
    out[ids.length] = id;
    return out;
  }
}

package io.peftplatform.text.dataset;

import io.peftplatform.text.ChatMessage;
import java.util.List;

/**
 * One line of a JSONL training file, in one of the forms users bring: three for supervised training,
 * two of preference pairs for DPO.
 */
public sealed interface TrainingRecord {
  /** {@code {"text": ...}}: every token is trained on. */
  record Text(String text) implements TrainingRecord {
    @Override
    public String form() {
      return "text";
    }
  }

  /** {@code {"prompt": ..., "completion": ...}}: the completion is trained on. */
  record PromptCompletion(String prompt, String completion) implements TrainingRecord {
    @Override
    public String form() {
      return "prompt/completion";
    }
  }

  /** {@code {"messages": [{"role": ..., "content": ...}, ...]}}: assistant turns are trained on. */
  record Chat(List<ChatMessage> messages) implements TrainingRecord {
    @Override
    public String form() {
      return "messages";
    }
  }

  /**
   * A preference pair: the same prompt answered twice, {@code chosen} better than {@code rejected}. Each
   * side is a {@link PromptCompletion} ({@code {"prompt", "chosen", "rejected"}}) or a {@link Chat} whose
   * first {@code promptTurns} messages are the prompt (OpenAI's {@code {"input": {"messages"},
   * "preferred_output", "non_preferred_output"}}); only the answer is scored.
   */
  record Preference(String form, TrainingRecord chosen, TrainingRecord rejected, int promptTurns) implements TrainingRecord {
    public static final String CHAT_FORM = "preference";
    public static final String PLAIN_FORM = "prompt/chosen/rejected";
  }

  /** Whether this record is a preference pair (for DPO) rather than a supervised example. */
  default boolean isPreference() {
    return this instanceof Preference;
  }

  /** The form's name, as users write it in files and as errors name it. */
  String form();
}

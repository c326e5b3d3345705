package io.peftplatform.text.dataset;

import io.peftplatform.text.ChatMessage;
import java.util.List;

/** One line of a JSONL training file, in one of the three forms users bring. */
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

  /** The form's name, as users write it in files and as errors name it. */
  String form();
}

package io.peftplatform.serving;

import io.peftplatform.text.ChatMessage;
import java.util.List;

/** What a request asks the model to continue: plain text (completions) or a conversation (chat). */
public sealed interface Prompt {
  /** Text continued as it is (a beginning-of-sequence token added where the tokenizer adds one). */
  record Text(String text) implements Prompt {}

  /** Messages rendered with the model's own chat template, ending in the assistant's turn. */
  record Chat(List<ChatMessage> messages) implements Prompt {
    public Chat {
      messages = List.copyOf(messages);
    }
  }
}

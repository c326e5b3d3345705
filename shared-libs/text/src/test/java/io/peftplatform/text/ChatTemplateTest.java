package io.peftplatform.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChatTemplateTest {
  private static final List<ChatMessage> CONVERSATION =
      List.of(
          new ChatMessage("system", "Be brief."),
          new ChatMessage("user", "Hi"),
          new ChatMessage("assistant", "Hello!"));

  @Test
  void defaultTemplateIsChatMl() {
    ChatTemplate t = new ChatTemplate(ChatTemplate.DEFAULT_CHATML, null, null);
    assertThat(t.render(CONVERSATION, true))
        .isEqualTo(
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                + "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>assistant\n");
  }

  /**
   * Every case in {@code chat-templates.json} was rendered by Python's jinja2 (the engine Hugging Face
   * uses) with tools/reference/chat_templates.py; Jinjava must agree character for character.
   */
  @Test
  void rendersLikePythonJinja() throws IOException {
    JsonNode cases;
    try (InputStream in = getClass().getResourceAsStream("/chat-templates.json")) {
      cases = new ObjectMapper().readTree(in);
    }
    assertThat(cases.size()).isGreaterThanOrEqualTo(4);
    for (JsonNode c : cases) {
      List<ChatMessage> messages = new ArrayList<>();
      c.get("messages").forEach(m -> messages.add(new ChatMessage(m.get("role").asText(), m.get("content").asText())));
      ChatTemplate t = new ChatTemplate(c.get("template").asText(), c.get("bos_token").asText(), c.get("eos_token").asText());
      if (c.hasNonNull("error")) {
        assertThatThrownBy(() -> t.render(messages, c.get("add_generation_prompt").asBoolean()))
            .as(c.get("name").asText())
            .isInstanceOf(TextException.class)
            .hasMessageContaining(c.get("error").asText());
      } else {
        assertThat(t.render(messages, c.get("add_generation_prompt").asBoolean()))
            .as(c.get("name").asText())
            .isEqualTo(c.get("expected").asText());
      }
    }
  }

  @Test
  void aTemplateSyntaxErrorIsATextException() {
    ChatTemplate t = new ChatTemplate("{% for m in messages %}{{ m.content }", null, null);
    assertThatThrownBy(() -> t.render(CONVERSATION, false)).isInstanceOf(TextException.class);
  }
}

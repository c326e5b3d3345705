package io.peftplatform.text;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.FatalTemplateErrorsException;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Renders conversations with a Hugging Face chat template (Jinja, as {@code apply_chat_template} does:
 * {@code trim_blocks} and {@code lstrip_blocks} on; {@code messages}, {@code add_generation_prompt},
 * {@code bos_token}, {@code eos_token} and {@code raise_exception} in scope).
 */
public final class ChatTemplate {
  /**
   * Used when a tokenizer has no template of its own: ChatML, the format of SmolLM2, Qwen2 and the
   * checkpoints {@code peft init-model} writes. Each turn is {@code <|im_start|>ROLE\nCONTENT<|im_end|>\n};
   * the generation prompt is {@code <|im_start|>assistant\n}.
   */
  public static final String DEFAULT_CHATML =
      "{% for message in messages %}"
          + "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
          + "{% endfor %}"
          + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

  /** Jinjava with Python Jinja's semantics switched on ({@code {{-} whitespace control included). */
  private static final JinjavaConfig CONFIG =
      JinjavaConfig.newBuilder()
          .withLegacyOverrides(
              LegacyOverrides.newBuilder()
                  .withParseWhitespaceControlStrictly(true)
                  .withUseTrimmingForNotesAndExpressions(true)
                  .withUseNaturalOperatorPrecedence(true)
                  .withEvaluateMapKeys(true)
                  .withIterateOverMapKeys(true)
                  .withUsePyishObjectMapper(true)
                  .withAllowAdjacentTextNodes(true)
                  .withKeepNullableLoopValues(true)
                  .build())
          .withTrimBlocks(true)
          .withLstripBlocks(true)
          .withMaxOutputSize(64L * 1024 * 1024)
          .build();

  private final String source;
  private final String bosToken;
  private final String eosToken;
  private final Jinjava jinjava;

  public ChatTemplate(String source, String bosToken, String eosToken) {
    this.source = source;
    this.bosToken = bosToken == null ? "" : bosToken;
    this.eosToken = eosToken == null ? "" : eosToken;
    this.jinjava = new Jinjava(CONFIG);
    jinjava
        .getGlobalContext()
        .registerFunction(
            new ELFunctionDefinition(
                "", "raise_exception", ChatTemplate.class, "raiseException", String.class));
  }

  /** The tokenizer's own template, or {@link #DEFAULT_CHATML} when it has none. */
  public static ChatTemplate forTokenizer(Tokenizer tokenizer) {
    return new ChatTemplate(
        tokenizer.chatTemplate().orElse(DEFAULT_CHATML),
        tokenizer.bosToken().orElse(null),
        tokenizer.eosToken().orElse(null));
  }

  public String source() {
    return source;
  }

  /** Called by templates: {@code raise_exception('...')} aborts rendering with that message. */
  public static String raiseException(String message) {
    throw new TemplateRaisedException(message);
  }

  public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
    List<Map<String, Object>> msgs = new ArrayList<>(messages.size());
    for (ChatMessage m : messages) {
      Map<String, Object> map = new LinkedHashMap<>();
      map.put("role", m.role());
      map.put("content", m.content());
      msgs.add(map);
    }
    Map<String, Object> bindings = new HashMap<>();
    bindings.put("messages", msgs);
    bindings.put("add_generation_prompt", addGenerationPrompt);
    bindings.put("bos_token", bosToken);
    bindings.put("eos_token", eosToken);
    RenderResult result;
    try {
      result = jinjava.renderForResult(source, bindings);
    } catch (TemplateRaisedException e) {
      throw new TextException("chat template refused the conversation: " + e.getMessage());
    } catch (FatalTemplateErrorsException e) {
      throw new TextException("chat template failed: " + e.getMessage());
    }
    for (TemplateError error : result.getErrors()) {
      Throwable cause = error.getException();
      while (cause != null && !(cause instanceof TemplateRaisedException)) {
        cause = cause.getCause();
      }
      if (cause != null) {
        throw new TextException("chat template refused the conversation: " + cause.getMessage());
      }
      if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
        throw new TextException(
            "chat template failed at line " + error.getLineno() + ": " + error.getMessage());
      }
    }
    return result.getOutput();
  }

  private static final class TemplateRaisedException extends RuntimeException {
    TemplateRaisedException(String message) {
      super(message);
    }
  }
}

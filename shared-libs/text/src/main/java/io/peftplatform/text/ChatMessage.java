package io.peftplatform.text;

import java.util.Set;

/** One turn of a conversation. */
public record ChatMessage(String role, String content) {
  public static final Set<String> ROLES = Set.of("system", "user", "assistant", "tool");

  public boolean isAssistant() {
    return role.equals("assistant");
  }
}

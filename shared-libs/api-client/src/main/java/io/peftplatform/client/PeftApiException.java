package io.peftplatform.client;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The API refused a request (status 4xx/5xx, with its RFC 7807 problem document), or could not be
 * reached (status 0). The message is one line: the detail, and the field at fault when named.
 */
public final class PeftApiException extends RuntimeException {
  private final int status;
  private final String field;
  private final transient JsonNode problem;

  public PeftApiException(int status, String detail, String field, JsonNode problem) {
    super((status > 0 ? "HTTP " + status + ": " : "") + detail + (field == null ? "" : " (field: " + field + ")"));
    this.status = status;
    this.field = field;
    this.problem = problem;
  }

  static PeftApiException of(int status, String body) {
    try {
      JsonNode p = PeftClient.JSON.readTree(body);
      if (p != null && p.isObject()) {
        String detail = p.path("detail").asText(p.path("title").asText("request failed"));
        String field = p.hasNonNull("field") ? p.get("field").asText() : null;
        return new PeftApiException(status, detail, field, p);
      }
    } catch (java.io.IOException notJson) {
      // fall through: the body as text
    }
    String text = body == null || body.isBlank() ? "request failed" : body.strip();
    return new PeftApiException(status, text.length() > 300 ? text.substring(0, 300) + "…" : text, null, null);
  }

  /** 0 when the API could not be reached. */
  public int status() {
    return status;
  }

  /** The request field at fault, as a JSON path, when the API named one. */
  public String field() {
    return field;
  }

  /** The problem document, when the API sent one. */
  public JsonNode problem() {
    return problem;
  }
}

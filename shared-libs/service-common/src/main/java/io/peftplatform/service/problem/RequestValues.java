package io.peftplatform.service.problem;

import java.util.regex.Pattern;

/**
 * Checks of the values tenants send that are not covered by a request record's constraints: ids (which
 * become query parameters and object keys) and free-text names (which are stored). A control character
 * is never legitimate in either, and one (NUL) is refused by PostgreSQL itself.
 */
public final class RequestValues {
  /** What every resource id looks like: a kind, a dash, and letters and digits ("model-3f9a…"). */
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9_-]{1,128}");

  private RequestValues() {}

  public static boolean isId(String value) {
    return value != null && ID.matcher(value).matches();
  }

  /**
   * The id a request's model name refers to: the name itself, or — for OpenAI's fine-tuned model names,
   * {@code ft:<base>:<org>:<suffix>:<id>} — its last part.
   */
  public static String modelId(String name) {
    return name != null && name.startsWith("ft:") ? name.substring(name.lastIndexOf(':') + 1) : name;
  }

  /** Whether a model name refers to a fine-tuned model (an adapter). */
  public static boolean isFineTuned(String name) {
    String id = modelId(name);
    return id != null && id.startsWith("adapter-");
  }

  /** 400 naming {@code field} unless the value is a plausible id. */
  public static String id(String value, String field) {
    if (!isId(value)) {
      throw ApiException.badRequest("is not an id (letters, digits, '-' and '_', at most 128)", field);
    }
    return value;
  }

  /** 400 naming {@code field} when a name has a control character; null passes (no name given). */
  public static String name(String value, String field) {
    if (value != null && hasControl(value)) {
      throw ApiException.badRequest("must not contain control characters", field);
    }
    return value;
  }

  /** A client's file name kept as a name: at most 256 characters, no control characters. */
  public static String fileName(String value, String field) {
    if (value != null && value.length() > 256) {
      throw ApiException.badRequest("the file name is longer than 256 characters", field);
    }
    return name(value, field);
  }

  /**
   * A page size from the query string (taken as text: a JAX-RS int parameter that does not parse answers
   * 404, which would say the resource does not exist): the default when absent, else 1 to max.
   */
  public static int limit(String raw, int dflt, int max) {
    if (raw == null || raw.isBlank()) {
      return dflt;
    }
    try {
      int n = Integer.parseInt(raw.trim());
      if (n >= 1 && n <= max) {
        return n;
      }
    } catch (NumberFormatException e) {
      // refused below
    }
    throw ApiException.badRequest("limit must be an integer from 1 to " + max + ", got '" + raw + "'", "limit");
  }

  public static boolean hasControl(CharSequence s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        return true;
      }
    }
    return false;
  }
}

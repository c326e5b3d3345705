package io.peftplatform.service.problem;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.Set;
import java.util.TreeSet;

/**
 * The one rule for request bodies read as JSON trees: a field the endpoint does not know is refused (400
 * naming it), never ignored, so a misspelt option cannot silently fall back to its default.
 */
public final class KnownFields {
  private KnownFields() {}

  /**
   * @param prefix the JSON path of {@code node} followed by a dot ("" at the top)
   */
  public static void check(JsonNode node, String prefix, Set<String> fields) {
    if (node == null || !node.isObject()) {
      return;
    }
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!fields.contains(f)) {
        throw ApiException.badRequest("unknown field; known: " + String.join(", ", new TreeSet<>(fields)), prefix + f);
      }
    }
  }
}

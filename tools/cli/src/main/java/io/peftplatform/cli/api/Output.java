package io.peftplatform.cli.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/** How client commands print: pretty JSON, or a table of chosen fields. */
final class Output {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneId.systemDefault());

  private Output() {}

  static PrintStream out() {
    return new PrintStream(System.out, true, StandardCharsets.UTF_8);
  }

  static void json(JsonNode node) {
    try {
      out().println(JSON.writeValueAsString(node));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A table of a list response's {@code data}: one column per field path ("a.b" descends). */
  static void table(JsonNode list, String... fields) {
    List<String[]> rows = new ArrayList<>();
    String[] header = new String[fields.length];
    for (int i = 0; i < fields.length; i++) {
      header[i] = fields[i].toUpperCase().replace('.', '_');
    }
    rows.add(header);
    for (JsonNode item : list.path("data")) {
      String[] row = new String[fields.length];
      for (int i = 0; i < fields.length; i++) {
        row[i] = cell(item, fields[i]);
      }
      rows.add(row);
    }
    int[] width = new int[fields.length];
    for (String[] r : rows) {
      for (int i = 0; i < r.length; i++) {
        width[i] = Math.max(width[i], r[i].length());
      }
    }
    PrintStream out = out();
    for (String[] r : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < r.length; i++) {
        line.append(i == r.length - 1 ? r[i] : String.format("%-" + (width[i] + 2) + "s", r[i]));
      }
      out.println(line.toString().stripTrailing());
    }
    if (list.path("has_more").asBoolean(false)) {
      out.println("(more: --after " + list.path("last_id").asText(lastId(list)) + ")");
    }
  }

  private static String lastId(JsonNode list) {
    JsonNode data = list.path("data");
    return data.size() == 0 ? "" : data.get(data.size() - 1).path("id").asText();
  }

  static String cell(JsonNode item, String path) {
    JsonNode n = item;
    for (String part : path.split("\\.")) {
      n = n.path(part);
    }
    if (n.isMissingNode() || n.isNull()) {
      return "-";
    }
    if (path.endsWith("created_at") || path.endsWith("finished_at") || path.equals("created")) {
      return TIME.format(Instant.ofEpochSecond(n.asLong()));
    }
    if (n.isFloatingPointNumber()) {
      return String.format("%.4g", n.asDouble());
    }
    return n.isValueNode() ? n.asText() : n.toString();
  }

  /** One line per job event: time, level, message. */
  static String event(JsonNode e) {
    return TIME.format(Instant.ofEpochSecond(e.path("created_at").asLong())) + "  " + String.format("%-7s", e.path("level").asText())
        + " " + e.path("message").asText();
  }
}

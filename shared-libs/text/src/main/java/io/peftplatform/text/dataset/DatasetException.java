package io.peftplatform.text.dataset;

import io.peftplatform.text.TextException;
import java.nio.file.Path;

/** A JSONL record that cannot be used; names the file, the 1-based line and the field at fault. */
public final class DatasetException extends TextException {
  private final String source;
  private final long line;
  private final String field;
  private final String problem;

  public DatasetException(String source, long line, String field, String problem) {
    super(source + ":" + line + ": " + (field == null ? "" : "field '" + field + "': ") + problem);
    this.source = source;
    this.line = line;
    this.field = field;
    this.problem = problem;
  }

  public DatasetException(Path file, long line, String field, String problem) {
    this(file.toString(), line, field, problem);
  }

  public String source() {
    return source;
  }

  public long line() {
    return line;
  }

  /** What is wrong, without the file, line and field. */
  public String problem() {
    return problem;
  }

  /** The JSON path of the field at fault ({@code messages[2].role}), or null for the line as a whole. */
  public String field() {
    return field;
  }
}

package io.peftplatform.text.dataset;

import java.io.IOException;
import java.io.Reader;

/**
 * Lines of a text stream, each at most {@code maxChars} long: a line over the limit fails as soon as the
 * limit is passed, before the rest of it is read, so one endless line cannot exhaust memory. Lines end at
 * {@code \n}, {@code \r\n} or {@code \r}, as {@link java.io.BufferedReader#readLine()} has it.
 */
public final class BoundedLineReader implements AutoCloseable {
  /** The default longest line: 8 Mi characters (a long chat transcript fits many times over). */
  public static final int DEFAULT_MAX_CHARS = 8 * 1024 * 1024;

  /** A line longer than the limit. */
  public static final class LineTooLong extends IOException {
    private final long line;
    private final int limit;

    LineTooLong(long line, int limit) {
      super("line " + line + " is longer than " + limit + " characters");
      this.line = line;
      this.limit = limit;
    }

    public long line() {
      return line;
    }

    public int limit() {
      return limit;
    }
  }

  private final Reader in;
  private final int maxChars;
  private final char[] buffer = new char[1 << 16];
  private int position;
  private int filled;
  private long lineNumber;
  private boolean skipLineFeed;

  public BoundedLineReader(Reader in, int maxChars) {
    if (maxChars < 1) {
      throw new IllegalArgumentException("maxChars must be positive, got " + maxChars);
    }
    this.in = in;
    this.maxChars = maxChars;
  }

  /** The next line without its terminator, or null at the end of the stream. */
  public String readLine() throws IOException {
    StringBuilder line = null;
    while (true) {
      if (position == filled) {
        filled = in.read(buffer, 0, buffer.length);
        position = 0;
        if (filled <= 0) {
          filled = 0;
          if (line == null) {
            return null;
          }
          lineNumber++;
          return line.toString();
        }
      }
      if (skipLineFeed) {
        skipLineFeed = false;
        if (buffer[position] == '\n') {
          position++;
          continue;
        }
      }
      int start = position;
      while (position < filled && buffer[position] != '\n' && buffer[position] != '\r') {
        position++;
      }
      if (line == null) {
        line = new StringBuilder(Math.min(256, maxChars));
      }
      if (line.length() + (position - start) > maxChars) {
        throw new LineTooLong(lineNumber + 1, maxChars);
      }
      line.append(buffer, start, position - start);
      if (position < filled) {
        skipLineFeed = buffer[position] == '\r';
        position++;
        lineNumber++;
        return line.toString();
      }
    }
  }

  /** How many lines have been returned so far. */
  public long lineNumber() {
    return lineNumber;
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}

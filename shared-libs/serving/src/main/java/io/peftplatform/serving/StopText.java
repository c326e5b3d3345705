package io.peftplatform.serving;

import io.peftplatform.text.Tokenizer;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * The text of the tokens generated so far, handed on in pieces as it becomes final, cut at the first
 * stop sequence. A piece is held back while it could still be the start of a stop sequence, or while it
 * ends inside a character (byte-level tokens split UTF-8 sequences: the decoder shows U+FFFD there).
 */
final class StopText {
  private final Tokenizer tokenizer;
  private final List<String> stops;
  private final int holdBack;
  private final Consumer<String> sink;
  private int[] tokens = new int[16];
  private int count;
  private int emitted;
  private String text = "";
  private boolean stopped;

  StopText(Tokenizer tokenizer, List<String> stops, Consumer<String> sink) {
    this.tokenizer = tokenizer;
    this.stops = List.copyOf(stops);
    this.holdBack = stops.stream().mapToInt(String::length).max().orElse(1) - 1;
    this.sink = sink;
  }

  /** Adds a token; returns false once a stop sequence has appeared (the text ends before it). */
  boolean add(int token) {
    if (count == tokens.length) {
      tokens = Arrays.copyOf(tokens, count * 2);
    }
    tokens[count++] = token;
    text = tokenizer.decode(Arrays.copyOf(tokens, count), true);
    int cut = -1;
    for (String s : stops) {
      int at = text.indexOf(s, Math.max(0, emitted - s.length() + 1));
      if (at >= 0 && (cut < 0 || at < cut)) {
        cut = at;
      }
    }
    if (cut >= 0) {
      text = text.substring(0, cut);
      stopped = true;
      flush(text.length());
      return false;
    }
    int safe = text.length() - holdBack;
    while (safe > emitted && text.charAt(safe - 1) == '\uFFFD') {
      safe--;
    }
    flush(safe);
    return true;
  }

  /** The generation ended: what was held back is final now. */
  void finish() {
    flush(text.length());
  }

  boolean stopped() {
    return stopped;
  }

  String text() {
    return text;
  }

  private void flush(int upTo) {
    if (upTo > emitted) {
      sink.accept(text.substring(emitted, upTo));
      emitted = upTo;
    }
  }
}

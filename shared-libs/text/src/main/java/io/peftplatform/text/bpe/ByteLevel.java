package io.peftplatform.text.bpe;

import java.util.ArrayList;
import java.util.List;

/**
 * GPT-2's reversible byte-to-character alphabet: printable Latin-1 bytes map to themselves, the other
 * 68 bytes to the code points from U+0100 upwards, so every byte string is a printable string.
 */
final class ByteLevel {
  private static final char[] BYTE_TO_CHAR = new char[256];

  static {
    boolean[] printable = new boolean[256];
    for (int b = '!'; b <= '~'; b++) {
      printable[b] = true;
    }
    for (int b = 0xA1; b <= 0xAC; b++) {
      printable[b] = true;
    }
    for (int b = 0xAE; b <= 0xFF; b++) {
      printable[b] = true;
    }
    int next = 0;
    for (int b = 0; b < 256; b++) {
      BYTE_TO_CHAR[b] = printable[b] ? (char) b : (char) (256 + next++);
    }
  }

  private ByteLevel() {}

  static char byteToChar(int b) {
    return BYTE_TO_CHAR[b & 0xff];
  }

  static String encode(byte[] bytes) {
    StringBuilder sb = new StringBuilder(bytes.length);
    for (byte b : bytes) {
      sb.append(byteToChar(b));
    }
    return sb.toString();
  }

  /** One symbol per character of an encoded word (each stands for one byte). */
  static List<String> symbols(String encodedWord) {
    List<String> out = new ArrayList<>(encodedWord.length());
    for (int i = 0; i < encodedWord.length(); i++) {
      out.add(String.valueOf(encodedWord.charAt(i)));
    }
    return out;
  }
}

package io.peftplatform.text.dataset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BoundedLineReaderTest {
  private static List<String> lines(Reader r, int max) throws IOException {
    List<String> out = new ArrayList<>();
    try (BoundedLineReader in = new BoundedLineReader(r, max)) {
      for (String l = in.readLine(); l != null; l = in.readLine()) {
        out.add(l);
      }
    }
    return out;
  }

  @Test
  void splitsLinesAsBufferedReaderDoes() throws IOException {
    Random random = new Random(5);
    String alphabet = "ab\n\r\u00e9";
    for (int trial = 0; trial < 200; trial++) {
      StringBuilder text = new StringBuilder();
      int n = random.nextInt(300);
      for (int i = 0; i < n; i++) {
        text.append(alphabet.charAt(random.nextInt(alphabet.length())));
      }
      List<String> expected = new BufferedReader(new StringReader(text.toString())).lines().toList();
      // A tiny reader buffer is not needed: the 64 Ki buffer still meets "\r" then "\n" across reads below.
      assertThat(lines(new StringReader(text.toString()), 1000)).as("%s", text).isEqualTo(expected);
    }
  }

  @Test
  void aCarriageReturnAndLineFeedSplitAcrossReadsIsOneTerminator() throws IOException {
    Reader oneCharAtATime = new Reader() {
      final String text = "a\r\nb\r\rc";
      int i;

      @Override
      public int read(char[] buf, int off, int len) {
        if (i == text.length()) {
          return -1;
        }
        buf[off] = text.charAt(i++);
        return 1;
      }

      @Override
      public void close() {}
    };
    assertThat(lines(oneCharAtATime, 10)).containsExactly("a", "b", "", "c");
  }

  @Test
  void aLineOverTheLimitFailsWithItsNumberBeforeItIsReadWhole() {
    Reader endless = new Reader() {
      long served;

      @Override
      public int read(char[] buf, int off, int len) {
        if (served == 0) {
          buf[off] = 'x';
          buf[off + 1] = '\n';
          served = 2;
          return 2;
        }
        java.util.Arrays.fill(buf, off, off + len, 'y');
        served += len;
        if (served > 10_000_000) {
          throw new AssertionError("read far past the limit");
        }
        return len;
      }

      @Override
      public void close() {}
    };
    assertThatThrownBy(() -> lines(endless, 100_000))
        .isInstanceOfSatisfying(BoundedLineReader.LineTooLong.class, e -> {
          assertThat(e.line()).isEqualTo(2);
          assertThat(e.limit()).isEqualTo(100_000);
        });
  }

  @Test
  void jsonlFilesWithAnEndlessLineAreRefusedNamingTheLine() {
    String huge = "{\"text\": \"" + "z".repeat(BoundedLineReader.DEFAULT_MAX_CHARS) + "\"}";
    assertThatThrownBy(() -> JsonlReader.readLines(new StringReader("{\"text\": \"a\"}\n" + huge + "\n"), "data.jsonl"))
        .isInstanceOf(DatasetException.class)
        .hasMessage("data.jsonl:2: is longer than " + BoundedLineReader.DEFAULT_MAX_CHARS + " characters");
  }
}

package io.peftplatform.llama.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Resident memory of this process as Linux reports it (/proc/self/status), in bytes; -1 elsewhere. */
public final class ProcessMemory {
  private ProcessMemory() {}

  /** Peak resident set size (VmHWM). */
  public static long peakRss() {
    return field("VmHWM:");
  }

  /** Current resident set size (VmRSS). */
  public static long rss() {
    return field("VmRSS:");
  }

  private static long field(String name) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith(name)) {
          return Long.parseLong(line.substring(name.length()).trim().split("\\s+")[0]) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }
}

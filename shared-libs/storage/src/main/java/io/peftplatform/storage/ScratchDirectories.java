package io.peftplatform.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Local working directories that hold objects on their way to or from the store. */
public final class ScratchDirectories {
  private ScratchDirectories() {}

  /** Deletes a directory and everything in it, as far as it can: scratch space, so a leftover is harmless. */
  public static void deleteQuietly(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // best effort
    }
  }
}

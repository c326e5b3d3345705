package io.peftplatform.storage;

import io.peftplatform.events.ObjectRef;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Objects downloaded once to local disk, addressed by SHA-256 ({@code <root>/ab/abcdef…/<name>}), so a
 * worker fetches each model and dataset once however many jobs use it, and a corrupt download never
 * counts as cached.
 */
public final class LocalCache {
  private final Path root;
  private final ObjectStore store;

  public LocalCache(Path root, ObjectStore store) {
    this.root = root;
    this.store = store;
  }

  /** The local path of an object, downloading and verifying it first if needed. */
  public synchronized Path fetch(ObjectRef ref) {
    Path target = root.resolve(ref.sha256().substring(0, 2)).resolve(ref.sha256()).resolve(ObjectLayout.fileName(ref.key()));
    if (!Files.isRegularFile(target)) {
      store.get(ref, target);
    }
    return target;
  }

  /**
   * A directory holding the given objects under their file names (links to the cached copies): a
   * model directory as the engine expects it.
   */
  public Path directory(String name, List<ObjectRef> files) {
    Path dir = root.resolve("dirs").resolve(name);
    try {
      Files.createDirectories(dir);
      for (ObjectRef ref : files) {
        Path cached = fetch(ref);
        Path link = dir.resolve(ObjectLayout.fileName(ref.key()));
        if (!Files.exists(link)) {
          Files.createSymbolicLink(link, cached.toAbsolutePath());
        }
      }
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare " + dir + ": " + e.getMessage(), e);
    }
  }
}

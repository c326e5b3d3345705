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
    Path target = root.resolve(ref.sha256().substring(0, 2)).resolve(ref.sha256()).resolve(safeName(ref));
    if (!Files.isRegularFile(target)) {
      store.get(ref, target);
    }
    return target;
  }

  /**
   * The file name of a reference, which with its digest makes a path under the cache: both are checked
   * here, where the path is made, whoever made the reference.
   */
  private static String safeName(ObjectRef ref) {
    String name = ObjectLayout.fileName(ref.key());
    if (!ObjectLayout.isDigest(ref.sha256()) || !name.matches("[A-Za-z0-9._-]{1,200}") || name.startsWith(".")) {
      throw new StorageException("not a usable object reference: " + ref.key() + " (sha256 " + ref.sha256() + ")");
    }
    return name;
  }

  /**
   * A directory holding the given objects under their file names (links to the cached copies): a
   * model directory as the engine expects it.
   */
  public Path directory(String label, List<ObjectRef> files) {
    if (!label.matches("[A-Za-z0-9._-]{1,100}") || label.startsWith(".")) {
      throw new StorageException("not a cache directory label: " + label);
    }
    // Named by what it holds, so two file lists never share a directory.
    java.security.MessageDigest digest = ObjectStore.sha256();
    for (ObjectRef ref : files) {
      digest.update((ref.key() + "\n" + ref.sha256() + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
    String name = label + "-" + java.util.HexFormat.of().formatHex(digest.digest(), 0, 12);
    Path dir = root.resolve("dirs").resolve(name);
    try {
      Files.createDirectories(dir);
      for (ObjectRef ref : files) {
        Path cached = fetch(ref);
        Path link = dir.resolve(safeName(ref));
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

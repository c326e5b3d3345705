package io.peftplatform.client;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * Unpacks a .tar.gz of regular files into a directory, refusing entries that would land outside it; a
 * leading folder the archive wraps its files in (e.g. "adapter-…/") is dropped.
 */
final class TarGz {
  private TarGz() {}

  static List<Path> extract(InputStream gzipped, Path directory, String wrapper) throws IOException {
    Path root = directory.toAbsolutePath().normalize();
    Files.createDirectories(root);
    List<Path> written = new ArrayList<>();
    try (TarArchiveInputStream tar = new TarArchiveInputStream(new GzipCompressorInputStream(new BufferedInputStream(gzipped)))) {
      for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
        if (!e.isFile()) {
          continue;
        }
        String name = wrapper != null && e.getName().startsWith(wrapper + "/") ? e.getName().substring(wrapper.length() + 1) : e.getName();
        Path target = root.resolve(name).normalize();
        if (!target.startsWith(root) || target.equals(root)) {
          throw new IOException("the archive's entry " + e.getName() + " points outside " + root);
        }
        Files.createDirectories(target.getParent());
        Files.copy(tar, target, StandardCopyOption.REPLACE_EXISTING);
        written.add(target);
      }
    }
    return written;
  }
}

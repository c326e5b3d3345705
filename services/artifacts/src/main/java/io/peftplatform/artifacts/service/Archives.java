package io.peftplatform.artifacts.service;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * Unpacks a model directory from a tar, tar.gz or zip archive: the model's files may sit at the top or in
 * one directory; entries with paths are flattened to their file names, and only model files are kept
 * (nothing is ever written outside the target directory).
 */
final class Archives {
  private Archives() {}

  static void extract(InputStream raw, String name, Path dir) throws IOException {
    Files.createDirectories(dir);
    BufferedInputStream in = new BufferedInputStream(raw);
    in.mark(4);
    byte[] magic = in.readNBytes(4);
    in.reset();
    if (magic.length >= 2 && magic[0] == 'P' && magic[1] == 'K') {
      try (ZipInputStream zip = new ZipInputStream(in)) {
        for (ZipEntry e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
          if (!e.isDirectory()) {
            keep(zip, e.getName(), dir);
          }
        }
      }
      return;
    }
    InputStream tarStream = magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b ? new GzipCompressorInputStream(in) : in;
    try (TarArchiveInputStream tar = new TarArchiveInputStream(tarStream)) {
      TarArchiveEntry e;
      while ((e = tar.getNextEntry()) != null) {
        if (e.isFile()) {
          keep(tar, e.getName(), dir);
        }
      }
    } catch (IOException e) {
      throw new IOException(name + " is not a tar, tar.gz or zip archive: " + e.getMessage(), e);
    }
  }

  private static void keep(InputStream entry, String path, Path dir) throws IOException {
    String file = path.substring(path.lastIndexOf('/') + 1);
    if (ModelFiles.wanted(file) && ModelFiles.safeName(file)) {
      Files.copy(entry, dir.resolve(file), StandardCopyOption.REPLACE_EXISTING);
    }
  }
}

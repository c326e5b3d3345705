package io.peftplatform.artifacts.service;

import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * Unpacks a model directory from a tar, tar.gz or zip archive: the model's files may sit at the top or in
 * one directory; entries with paths are flattened to their file names, and only model files are kept
 * (nothing is ever written outside the target directory). Every byte unpacked counts, kept or skipped:
 * an archive with too many entries, more unpacked bytes than a model may have, or a compression ratio no
 * model reaches (a gzip bomb) is refused as soon as it shows.
 */
final class Archives {
  /** Below this many unpacked bytes the ratio is not judged (small JSON files compress well). */
  private static final long RATIO_FLOOR = 16L << 20;

  /** An archive that passes a limit: the setting's name and value. */
  static final class TooLarge extends IOException {
    final String limitName;
    final long limitValue;

    TooLarge(String message, String limitName, long limitValue) {
      super(message);
      this.limitName = limitName;
      this.limitValue = limitValue;
    }
  }

  /** The limits an archive is held to. */
  record Limits(int maxEntries, long maxBytes, int maxRatio) {}

  private Archives() {}

  static void extract(InputStream raw, String name, Path dir, Limits limits) throws IOException {
    Files.createDirectories(dir);
    Counter packed = new Counter(new BufferedInputStream(raw), null);
    packed.mark(4);
    byte[] magic = packed.readNBytes(4);
    packed.reset();
    Progress progress = new Progress(packed, limits);
    if (magic.length >= 2 && magic[0] == 'P' && magic[1] == 'K') {
      try (ZipInputStream zip = new ZipInputStream(packed)) {
        for (ZipEntry e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
          progress.entry();
          // Read every entry through the counter, skipped ones too, so their bytes count.
          keep(new Counter(zip, progress), e.isDirectory() ? null : e.getName(), dir);
        }
      }
      return;
    }
    boolean gzip = magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b;
    InputStream unpacked = new Counter(gzip ? new GzipCompressorInputStream(packed) : packed, progress);
    try (TarArchiveInputStream tar = new TarArchiveInputStream(unpacked)) {
      TarArchiveEntry e;
      while ((e = tar.getNextEntry()) != null) {
        progress.entry();
        keep(tar, e.isFile() ? e.getName() : null, dir);
      }
    } catch (TooLarge e) {
      throw e;
    } catch (IOException e) {
      throw new IOException(name + " is not a tar, tar.gz or zip archive: " + e.getMessage(), e);
    }
  }

  /** Writes a wanted file's bytes; drains anything else (path null: not a file). */
  private static void keep(InputStream entry, String path, Path dir) throws IOException {
    String file = path == null ? null : path.substring(path.lastIndexOf('/') + 1);
    if (file != null && ModelFiles.wanted(file) && ModelFiles.safeName(file)) {
      try (OutputStream out = Files.newOutputStream(dir.resolve(file))) {
        entry.transferTo(out);
      }
    } else {
      entry.transferTo(OutputStream.nullOutputStream());
    }
  }

  /** Entries and bytes so far, against the limits. */
  private static final class Progress {
    private final Counter packed;
    private final Limits limits;
    private int entries;
    private long unpacked;

    Progress(Counter packed, Limits limits) {
      this.packed = packed;
      this.limits = limits;
    }

    void entry() throws TooLarge {
      if (++entries > limits.maxEntries()) {
        throw new TooLarge("the archive has more than " + limits.maxEntries() + " entries (peft.limits.archive-entries)",
            "peft.limits.archive-entries", limits.maxEntries());
      }
    }

    void unpacked(long n) throws TooLarge {
      unpacked += n;
      if (unpacked > limits.maxBytes()) {
        throw new TooLarge("the archive unpacks to more than " + limits.maxBytes() + " bytes (peft.limits.model-bytes)",
            "peft.limits.model-bytes", limits.maxBytes());
      }
      if (unpacked > RATIO_FLOOR && unpacked > (long) limits.maxRatio() * Math.max(1, packed.count)) {
        throw new TooLarge("the archive unpacks to more than " + limits.maxRatio() + " times its size"
            + " (peft.limits.archive-ratio): it is not a model", "peft.limits.archive-ratio", limits.maxRatio());
      }
    }
  }

  /** Counts the bytes read through it, telling {@code progress} if given. */
  private static final class Counter extends FilterInputStream {
    private final Progress progress;
    long count;

    Counter(InputStream in, Progress progress) {
      super(in);
      this.progress = progress;
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        counted(1);
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      if (n > 0) {
        counted(n);
      }
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      // Skipping must read, or skipped bytes would not count.
      byte[] buf = new byte[(int) Math.min(n, 1 << 16)];
      int read = read(buf, 0, buf.length);
      return Math.max(read, 0);
    }

    @Override
    public void close() {
      // the archive's stream closes the source
    }

    private void counted(long n) throws TooLarge {
      count += n;
      if (progress != null) {
        progress.unpacked(n);
      }
    }
  }
}

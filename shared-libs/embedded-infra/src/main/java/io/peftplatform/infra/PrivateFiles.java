package io.peftplatform.infra;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Files and directories only their owner can read, private from the moment they exist: a secret is never
 * written into a file that someone else could open before a chmod.
 */
public final class PrivateFiles {
  private static final boolean POSIX = java.nio.file.FileSystems.getDefault().supportedFileAttributeViews().contains("posix");

  private PrivateFiles() {}

  /** Creates the directory (and missing parents) owner-only, or makes an existing one owner-only. */
  public static Path directory(Path dir) throws IOException {
    if (!POSIX) {
      return Files.createDirectories(dir);
    }
    Set<PosixFilePermission> rwx = PosixFilePermissions.fromString("rwx------");
    if (Files.isDirectory(dir)) {
      Files.setPosixFilePermissions(dir, rwx);
    } else {
      Files.createDirectories(dir.toAbsolutePath().getParent());
      try {
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(rwx));
      } catch (FileAlreadyExistsException raced) {
        Files.setPosixFilePermissions(dir, rwx);
      }
    }
    return dir;
  }

  /** Replaces the file's content atomically with a file created owner-readable (0600) before anything is written. */
  public static void write(Path file, String content) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    FileAttribute<?>[] attributes = POSIX
        ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))}
        : new FileAttribute<?>[0];
    Files.createFile(tmp, attributes);
    Files.writeString(tmp, content, StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}

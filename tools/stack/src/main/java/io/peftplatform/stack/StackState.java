package io.peftplatform.stack;

import io.peftplatform.infra.PrivateFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Properties;

/**
 * What a stack keeps between starts in {@code <data>/stack.properties} (owner-readable only): the secrets
 * made on first start — admin key, internal token, S3 keys — and the ids of the demo model and dataset.
 */
final class StackState {
  private static final SecureRandom RANDOM = new SecureRandom();
  private final Path file;
  private final Properties values = new Properties();
  private final boolean firstStart;

  private StackState(Path file) {
    this.file = file;
    this.firstStart = !Files.exists(file);
    if (!firstStart) {
      try (InputStream in = Files.newInputStream(file)) {
        values.load(in);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
      }
    }
  }

  static StackState load(Path dataDir) {
    StackState s = new StackState(dataDir.resolve("stack.properties"));
    s.secret("admin-key", "peft-admin-");
    s.secret("internal-token", "");
    s.secret("s3-access-key", "peft-");
    s.secret("s3-secret-key", "");
    s.save();
    return s;
  }

  private void secret(String name, String prefix) {
    if (values.getProperty(name) == null) {
      byte[] b = new byte[20];
      RANDOM.nextBytes(b);
      values.setProperty(name, prefix + HexFormat.of().formatHex(b));
    }
  }

  /** True when this start created the state (and so shows the admin key). */
  boolean firstStart() {
    return firstStart;
  }

  String get(String name) {
    return values.getProperty(name);
  }

  void set(String name, String value) {
    values.setProperty(name, value);
    save();
  }

  private void save() {
    try {
      PrivateFiles.directory(file.getParent());
      java.io.StringWriter text = new java.io.StringWriter();
      values.store(text, "peft up: secrets and demo ids of this stack (keep private)");
      PrivateFiles.write(file, text.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }
}

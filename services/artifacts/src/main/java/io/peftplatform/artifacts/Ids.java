package io.peftplatform.artifacts;

import java.security.SecureRandom;
import java.util.HexFormat;

/** Resource ids: a kind prefix and 24 random hex digits ("model-3f9a…", "file-…"). */
public final class Ids {
  private static final SecureRandom RANDOM = new SecureRandom();

  private Ids() {}

  public static String next(String prefix) {
    byte[] b = new byte[12];
    RANDOM.nextBytes(b);
    return prefix + "-" + HexFormat.of().formatHex(b);
  }
}

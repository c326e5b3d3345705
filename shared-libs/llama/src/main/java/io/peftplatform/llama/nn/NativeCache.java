package io.peftplatform.llama.nn;

import io.peftplatform.text.TokenizerNatives;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Pattern;
import org.bytedeco.javacpp.Loader;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Fills the native-library caches at image build time, so that a container starts on a read-only root
 * filesystem: JavaCPP's ({@code -Dorg.bytedeco.javacpp.cachedir}) with every Linux x86-64 library on the
 * class path — both ND4J builds, OpenBLAS, oneDNN, JavaCPP's own — extracted exactly as JavaCPP extracts
 * them when it loads one; then this CPU's ND4J build loaded (loading adds the links JavaCPP makes beside
 * a library); DJL's ({@code DJL_CACHE_DIR}) with the tokenizers' library ({@link TokenizerNatives}); and,
 * when {@code -Djna.boot.library.path} names a directory, JNA's own library there (JNA, which ND4J's
 * hardware probe loads, otherwise unpacks it into the home or temporary directory at every start).
 *
 * <p>{@code java -cp 'lib/main/*' -Dorg.bytedeco.javacpp.cachedir=DIR io.peftplatform.llama.nn.NativeCache [build]}:
 * {@code build} ({@code -avx2} or {@code -onednn-avx512}) is the ND4J build to load, by default this CPU's.
 * Prints what it cached.
 */
public final class NativeCache {
  /** A native library inside a JavaCPP jar: {@code …/linux-x86_64[-extension]/lib….so[.N]}. */
  static final Pattern LIBRARY = Pattern.compile(".*/linux-x86_64[^/]*/[^/]+\\.so(\\.[0-9]+)*$");

  private NativeCache() {}

  public static void main(String[] args) throws Exception {
    if (System.getProperty("org.bytedeco.javacpp.cachedir") == null) {
      System.err.println("native-cache: set -Dorg.bytedeco.javacpp.cachedir to the directory to fill");
      System.exit(2);
    }
    List<File> cached = cacheAll(System.getProperty("java.class.path"));
    String jna = System.getProperty("jna.boot.library.path");
    if (jna != null) {
      cached.add(copyJnaDispatch(Path.of(jna)));
    }
    if (args.length > 0) {
      System.setProperty(NativeBuild.PROPERTY, args[0]);
    }
    String build = NativeBuild.select();
    Nd4j.create(new float[] {1f, 2f}).addi(1f); // loads the build (and makes its links)
    TokenizerNatives.load();
    System.out.println("native-cache: " + cached.size() + " libraries in " + Loader.getCacheDir() + "; loaded ND4J " + build
        + (NativeBuild.oneDnnLoaded() ? " (oneDNN)" : "") + " and the tokenizers");
  }

  /**
   * Copies JNA's native library from its jar into {@code dir}, where JNA looks first
   * (jna.boot.library.path), unless the same is there already.
   */
  static File copyJnaDispatch(Path dir) throws IOException {
    String resource = "com/sun/jna/linux-x86-64/libjnidispatch.so";
    try (InputStream in = ClassLoader.getSystemResourceAsStream(resource)) {
      if (in == null) {
        throw new IOException("no " + resource + " on the class path");
      }
      byte[] library = in.readAllBytes();
      Path target = dir.resolve("libjnidispatch.so");
      if (!Files.isRegularFile(target) || !java.util.Arrays.equals(Files.readAllBytes(target), library)) {
        Files.createDirectories(dir);
        Files.write(target, library);
      }
      return target.toFile();
    }
  }

  /** Extracts every native library of the jars on this class path into JavaCPP's cache; returns the files. */
  static List<File> cacheAll(String classPath) throws IOException {
    List<File> out = new ArrayList<>();
    for (String entry : classPath.split(File.pathSeparator)) {
      File jar = new File(entry);
      if (!jar.isFile() || !jar.getName().endsWith(".jar")) {
        continue;
      }
      URI jarUri = jar.toURI();
      try (JarFile file = new JarFile(jar)) {
        for (Enumeration<JarEntry> e = file.entries(); e.hasMoreElements(); ) {
          JarEntry je = e.nextElement();
          if (!je.isDirectory() && LIBRARY.matcher(je.getName()).matches()) {
            out.add(Loader.cacheResource(new URL("jar:" + jarUri + "!/" + je.getName())));
          }
        }
      }
    }
    return out;
  }
}

package io.peftplatform.llama.nn;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image's native caches (services/Dockerfile): filled once by NativeCache, they serve a process that
 * loads ND4J — each build this CPU can run, the AVX2 one having been the one loaded at fill time, as on a
 * build machine without AVX-512 — and the tokenizers, without a file written: the caches are unchanged,
 * and no file lands in the process's temporary directory or home (where JavaCPP, DJL and JNA unpack
 * their libraries when the caches lack them). The caches are also made read-only, as a container's root filesystem is (which
 * binds only where the tests do not run as root).
 */
class NativeCacheTest {
  @TempDir Path dir;

  @Test
  void aFilledCacheMadeReadOnlyServesEveryBuildAndTheTokenizers() throws Exception {
    Path javacpp = dir.resolve("javacpp");
    Path djl = dir.resolve("djl");
    String jna = "-Djna.boot.library.path=" + dir.resolve("jna");
    try {
      assertThat(run(javacpp, djl, NativeBuild.AVX2, jna)).contains("loaded ND4J -avx2 and the tokenizers");
      assertThat(Files.list(javacpp).map(p -> p.getFileName().toString()))
          .anyMatch(n -> n.contains("nd4j-native") && n.contains("avx2"))
          .anyMatch(n -> n.contains("nd4j-native") && n.contains("onednn-avx512"))
          .anyMatch(n -> n.contains("openblas"));
      readOnly(javacpp, true);
      readOnly(djl, true);
      readOnly(dir.resolve("jna"), true);
      List<String> builds = new ArrayList<>(List.of(NativeBuild.AVX2));
      if (NativeBuild.cpuFlags().containsAll(NativeBuild.AVX512_FLAGS)) {
        builds.add(NativeBuild.ONEDNN_AVX512);
      }
      Path scratch = Files.createDirectories(dir.resolve("scratch"));
      Path tmp = Files.createDirectories(scratch.resolve("tmp"));
      Path home = Files.createDirectories(scratch.resolve("home"));
      Map<String, FileTime> caches = files(javacpp);
      caches.putAll(files(djl));
      caches.putAll(files(dir.resolve("jna")));
      for (String build : builds) {
        assertThat(run(javacpp, djl, build, jna, "-Djava.io.tmpdir=" + tmp, "-Duser.home=" + home)).as(build).contains("loaded ND4J " + build);
      }
      Map<String, FileTime> after = files(javacpp);
      after.putAll(files(djl));
      after.putAll(files(dir.resolve("jna")));
      Map<String, FileTime> changed = new TreeMap<>(after);
      changed.entrySet().removeIf(e -> e.getValue().equals(caches.get(e.getKey())));
      assertThat(changed).as("files written to the caches").isEmpty();
      assertThat(caches.keySet()).as("files deleted from the caches").isSubsetOf(after.keySet());
      // (JNA makes its empty temporary directory at every start, in the home or else in /tmp: no file in it.)
      assertThat(regularFiles(tmp)).as("libraries unpacked to the temporary directory").isEmpty();
      assertThat(regularFiles(home)).as("libraries unpacked to the home directory").isEmpty();
    } finally {
      readOnly(dir, false); // so that the temporary directory can be deleted
    }
  }

  private static String run(Path javacpp, Path djl, String build, String... jvm) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    cmd.addAll(List.of(jvm));
    cmd.addAll(List.of("-Dorg.bytedeco.javacpp.cachedir=" + javacpp, "-cp", System.getProperty("java.class.path"),
        NativeCache.class.getName(), build));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("DJL_CACHE_DIR", djl.toString());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    return out;
  }

  private static Map<String, FileTime> files(Path root) throws IOException {
    Map<String, FileTime> out = new TreeMap<>();
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : (Iterable<Path>) all::iterator) {
        out.put(root.relativize(p).toString(), Files.getLastModifiedTime(p, java.nio.file.LinkOption.NOFOLLOW_LINKS));
      }
    }
    return out;
  }

  private static List<Path> regularFiles(Path root) throws IOException {
    try (Stream<Path> all = Files.walk(root)) {
      return all.filter(Files::isRegularFile).toList();
    }
  }

  private static void readOnly(Path root, boolean on) throws IOException {
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : (Iterable<Path>) all::iterator) {
        if (!Files.isSymbolicLink(p)) {
          p.toFile().setWritable(!on, false);
        }
      }
    }
  }
}

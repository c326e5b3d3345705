package io.peftplatform.llama.nn;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.nd4j.nativeblas.NativeOpsHolder;

/**
 * Which of ND4J's native builds a process loads. Both ship: the AVX2 build, whose matrix products go to
 * OpenBLAS 0.3.19 (it runs on any x86-64 CPU of the last decade), and the oneDNN build for AVX-512,
 * whose products go to oneDNN — on an AVX-512 CPU about twice as fast for fp32 (2026-12-07, AMD EPYC
 * family 26: 366 against 186 GFLOP/s at 2048³ on 2 threads; docs/benchmarks.md), and it also multiplies
 * BF16. JavaCPP picks the build by the {@value #PROPERTY} system property when ND4J first loads, so
 * {@link #select} must run before anything touches ND4J: the CLI's and the services' main methods call it.
 * A property already set (e.g. {@code -Dorg.bytedeco.javacpp.platform.extension=-avx2} through
 * PEFT_JAVA_OPTS) is left alone.
 */
public final class NativeBuild {
  public static final String PROPERTY = "org.bytedeco.javacpp.platform.extension";
  public static final String AVX2 = "-avx2";
  public static final String ONEDNN_AVX512 = "-onednn-avx512";
  /** What the oneDNN AVX-512 build is compiled for (skylake-avx512): without any of them it would die on an illegal instruction. */
  static final Set<String> AVX512_FLAGS = Set.of("avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl");

  private NativeBuild() {}

  /** Chooses the build for this CPU, unless the property is set already; returns the one chosen. */
  public static String select() {
    String chosen = System.getProperty(PROPERTY);
    if (chosen == null) {
      chosen = forFlags(cpuFlags());
      System.setProperty(PROPERTY, chosen);
    }
    return chosen;
  }

  /** The build for a CPU with these flags (as /proc/cpuinfo lists them). */
  static String forFlags(Set<String> flags) {
    return flags.containsAll(AVX512_FLAGS) ? ONEDNN_AVX512 : AVX2;
  }

  /** This machine's CPU flags; empty where /proc/cpuinfo cannot be read (then the AVX2 build). */
  static Set<String> cpuFlags() {
    try {
      List<String> lines = Files.readAllLines(Path.of("/proc/cpuinfo"));
      return lines.stream().filter(l -> l.startsWith("flags")).findFirst()
          .map(l -> Arrays.stream(l.substring(l.indexOf(':') + 1).trim().split("\\s+")).collect(Collectors.toSet())).orElse(Set.of());
    } catch (IOException | RuntimeException e) {
      return Set.of();
    }
  }

  /** Whether the build loaded in this process multiplies through oneDNN (loads ND4J if it is not yet). */
  public static boolean oneDnnLoaded() {
    return NativeOpsHolder.getInstance().getDeviceNativeOps().buildInfo().contains("HAVE_ONEDNN");
  }

  /**
   * Whether BF16 matrices multiply natively here: the oneDNN build on a CPU with AVX512-BF16 or AMX-BF16
   * (600–646 GFLOP/s at the 135M model's shapes on 2 Zen 5 cores, fp32 accumulation). Elsewhere ND4J's
   * BF16 product is a generic loop that also accumulates in BF16 (0.7 GFLOP/s, errors of several BF16
   * units): {@link FrozenLinear} then computes the same BF16 product through fp32 BLAS instead.
   */
  public static boolean nativeBf16() {
    return NativeBf16.ANSWER;
  }

  /** Decided once, on first use (after ND4J has loaded its build). */
  private static final class NativeBf16 {
    static final boolean ANSWER = oneDnnLoaded() && (cpuFlags().contains("avx512_bf16") || cpuFlags().contains("amx_bf16"));
  }
}

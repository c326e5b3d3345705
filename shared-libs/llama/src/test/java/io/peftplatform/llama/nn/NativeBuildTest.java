package io.peftplatform.llama.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.peftplatform.llama.LlamaModel;
import io.peftplatform.llama.ModelDirectory;
import io.peftplatform.text.dataset.PaddedBatch;
import io.peftplatform.text.dataset.TokenizedExample;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * ND4J's two native builds: the oneDNN build is chosen exactly where the CPU can run it, and — on such a
 * CPU — a process that loads it computes what this one (the AVX2 build, as tests run) does: a product and
 * a model's loss, within fp32 rounding; and its BF16 products (native with AVX512-BF16) meet their definition.
 */
class NativeBuildTest {
  static final double FP32_TOLERANCE = 1e-5; // relative

  @Test
  void theOneDnnBuildIsChosenOnlyWhereEveryAvx512ExtensionItNeedsIsThere() {
    assertThat(NativeBuild.forFlags(Set.of("sse2", "avx", "avx2", "fma"))).isEqualTo(NativeBuild.AVX2);
    assertThat(NativeBuild.forFlags(Set.of("avx2", "avx512f", "avx512cd"))).isEqualTo(NativeBuild.AVX2); // Xeon Phi's subset
    assertThat(NativeBuild.forFlags(Set.of("avx2", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"))).isEqualTo(NativeBuild.ONEDNN_AVX512);
    assertThat(NativeBuild.forFlags(Set.of())).isEqualTo(NativeBuild.AVX2);
  }

  /**
   * A fixed product, the golden model's loss, whether oneDNN loaded, whether BF16 products are native,
   * their worst error in FrozenLinearBf16Test's tolerances and the BF16 head's in CrossEntropyBf16Test's:
   * "gemm-sum loss onednn native-bf16 bf16-error bf16-head-error".
   */
  public static void main(String[] args) throws Exception {
    System.out.println(gemmSum() + " " + loss(Path.of(args[0])) + " " + NativeBuild.oneDnnLoaded() + " " + NativeBuild.nativeBf16()
        + " " + FrozenLinearBf16Test.worstForwardBackwardError() + " " + CrossEntropyBf16Test.worstError());
  }

  static double gemmSum() {
    INDArray a = Nd4j.create(pattern(256 * 384, 1), new long[] {256, 384}, 'c');
    INDArray b = Nd4j.create(pattern(320 * 384, 2), new long[] {320, 384}, 'c');
    INDArray c = Nd4j.create(DataType.FLOAT, 256, 320);
    Ops.gemm(c, a, false, b, true, 1.0, 0.0);
    return c.mul(c).sumNumber().doubleValue();
  }

  static float[] pattern(int n, int seed) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) Math.sin(i * 0.37 + seed) * 0.5f;
    }
    return v;
  }

  static double loss(Path model) {
    LlamaModel m = ModelDirectory.loadModel(model, DataType.FLOAT);
    int[] ids = {5, 9, 13, 2, 7, 1, 60, 33, 21, 8};
    PaddedBatch batch = PaddedBatch.of(List.of(new TokenizedExample(ids, ids.clone())), 0);
    return m.loss(batch, new Arena(DataType.FLOAT)).mean();
  }

  @Test
  void aProcessOnTheOneDnnBuildComputesWhatTheAvx2BuildDoes() throws Exception {
    assumeTrue(NativeBuild.cpuFlags().containsAll(NativeBuild.AVX512_FLAGS), "this CPU cannot run the oneDNN AVX-512 build");
    Path model = Path.of(NativeBuildTest.class.getResource("/golden/llama-gqa-f32").toURI());
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-D" + NativeBuild.PROPERTY + "=" + NativeBuild.ONEDNN_AVX512, "--add-modules=jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
        NativeBuildTest.class.getName(), model.toString()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
    String last = null;
    try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = out.readLine()) != null; ) {
        last = line;
      }
    }
    assertThat(p.waitFor()).as("the child JVM on the oneDNN build").isZero();
    String[] got = last.trim().split(" ");
    assertThat(got[2]).as("the oneDNN build loaded").isEqualTo("true");
    double gemm = gemmSum();
    double loss = loss(model);
    System.out.printf("gemm %.9g (AVX2) vs %s (oneDNN); loss %.9f vs %s%n", gemm, got[0], loss, got[1]);
    assertThat(Math.abs(Double.parseDouble(got[0]) - gemm) / gemm).isLessThan(FP32_TOLERANCE);
    assertThat(Math.abs(Double.parseDouble(got[1]) - loss) / loss).isLessThan(FP32_TOLERANCE);
    boolean bf16Instructions = NativeBuild.cpuFlags().contains("avx512_bf16") || NativeBuild.cpuFlags().contains("amx_bf16");
    assertThat(Boolean.parseBoolean(got[3])).as("BF16 products native on the oneDNN build iff the CPU has BF16 instructions").isEqualTo(bf16Instructions);
    System.out.printf("BF16 products (native %s): worst error %s of the tolerance%n", got[3], got[4]);
    assertThat(Double.parseDouble(got[4])).as("BF16 products within BF16's rounding of their definition").isLessThanOrEqualTo(1.0);
    System.out.printf("BF16 head: worst error %s of its bound%n", got[5]);
    assertThat(Double.parseDouble(got[5])).as("the BF16 head's loss and gradient within their bounds").isLessThanOrEqualTo(1.0);
  }
}

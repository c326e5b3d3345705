package io.peftplatform.llama.bench;

import io.peftplatform.llama.nn.NativeBuild;
import io.peftplatform.llama.nn.Ops;
import io.peftplatform.llama.nn.Rows;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The fp32 matrix-product rate this machine reaches through ND4J's BLAS on the threads it is given: the
 * ceiling a training step's rate is compared with ({@code peft bench train} prints the step's share of it).
 */
public final class SgemmPeak {
  /** The shape timed: square, large enough that packing and threading overheads vanish. */
  public static final int SIZE = 2048;

  private SgemmPeak() {}

  /**
   * ND4J's backend in use (CpuBackend, or JCublasBackend with the cuda profile on a GPU), its native build
   * (products in oneDNN or OpenBLAS) and the kernels' path.
   */
  public static String backend() {
    boolean cpu = Nd4j.getBackend().getClass().getSimpleName().equals("CpuBackend");
    return Nd4j.getBackend().getClass().getSimpleName() + (cpu ? NativeBuild.oneDnnLoaded() ? ", oneDNN build" : ", OpenBLAS build" : "")
        + (Rows.VECTOR ? ", SIMD kernels" : ", scalar kernels");
  }

  /** The best of several rounds of C = A·B at {@link #SIZE}³, in GFLOP/s; about a second of work. */
  public static double gflops() {
    INDArray a = Nd4j.rand(DataType.FLOAT, SIZE, SIZE);
    INDArray b = Nd4j.rand(DataType.FLOAT, SIZE, SIZE);
    INDArray c = Nd4j.create(DataType.FLOAT, SIZE, SIZE);
    Ops.gemm(c, a, false, b, false, 1.0, 0.0); // warm-up: threads started, pages touched
    double best = 0;
    for (int round = 0; round < 5; round++) {
      long start = System.nanoTime();
      Ops.gemm(c, a, false, b, false, 1.0, 0.0);
      double seconds = (System.nanoTime() - start) / 1e9;
      best = Math.max(best, 2.0 * SIZE * SIZE * SIZE / seconds / 1e9);
    }
    a.close();
    b.close();
    c.close();
    return best;
  }
}

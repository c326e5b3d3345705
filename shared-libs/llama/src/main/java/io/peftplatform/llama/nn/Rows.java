package io.peftplatform.llama.nn;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Row-wise access to dense C-order FLOAT or DOUBLE arrays from Java, and a parallel loop over rows on
 * as many threads as ND4J's own ops use. The fused element-wise kernels of the layers (masked softmax,
 * RMSNorm, SwiGLU, RoPE) are written on it: one pass over memory where a chain of ND4J ops makes one
 * pass per op. Rows are read into and written from double[] scratch, so a kernel is written once and
 * computes in double for both element types (fp32 results round once, at the write).
 */
public final class Rows {
  /** The compute threads: OMP_NUM_THREADS, as for ND4J's OpenMP ops, else every core. */
  public static final int THREADS = threads();

  /**
   * Whether fp32 kernels take {@link VectorKernels}' SIMD path: the JVM runs with {@code --add-modules
   * jdk.incubator.vector} (the peft launcher, the services and the tests do) and {@code -Dpeft.vector=false}
   * is not set. Otherwise they compute row by row in double, as for fp64.
   */
  public static final boolean VECTOR = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
      && !"false".equals(System.getProperty("peft.vector"));

  private static final ForkJoinPool POOL = new ForkJoinPool(THREADS);
  /** Below this many elements a kernel runs on the calling thread: forking would cost more. */
  private static final long PARALLEL_MIN_ELEMENTS = 1 << 15;

  private static final ThreadLocal<float[]> FLOAT_SCRATCH = ThreadLocal.withInitial(() -> new float[1024]);

  private final FloatBuffer floats;
  private final DoubleBuffer doubles;

  private Rows(INDArray a) {
    if (a.ordering() != 'c' || !java.util.Arrays.equals(a.stride(), Nd4j.getStrides(a.shape(), 'c'))) {
      throw new IllegalArgumentException("a dense C-order array is needed, got strides " + java.util.Arrays.toString(a.stride()));
    }
    if (a.length() > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("arrays over 2^31 elements are not supported here: " + a.length());
    }
    if (a.dataType() == DataType.FLOAT) {
      floats = a.data().asNioFloat().position((int) a.offset()).slice();
      doubles = null;
    } else if (a.dataType() == DataType.DOUBLE) {
      doubles = a.data().asNioDouble().position((int) a.offset()).slice();
      floats = null;
    } else {
      throw new IllegalArgumentException("FLOAT or DOUBLE arrays only, got " + a.dataType());
    }
  }

  /** Row access to {@code a}, which must be dense and C-order (as {@link Arena} views are). */
  public static Rows of(INDArray a) {
    return new Rows(a);
  }

  /** Copies elements [index, index + length) into dst[0, length). */
  public void read(int index, double[] dst, int length) {
    if (doubles != null) {
      doubles.get(index, dst, 0, length);
      return;
    }
    float[] f = floatScratch(length);
    floats.get(index, f, 0, length);
    for (int i = 0; i < length; i++) {
      dst[i] = f[i];
    }
  }

  /** Writes src[0, length) to elements [index, index + length). */
  public void write(int index, double[] src, int length) {
    if (doubles != null) {
      doubles.put(index, src, 0, length);
      return;
    }
    float[] f = floatScratch(length);
    for (int i = 0; i < length; i++) {
      f[i] = (float) src[i];
    }
    floats.put(index, f, 0, length);
  }

  /** Whether kernels over these arrays take the SIMD path: the Vector API present and every array fp32. */
  public static boolean simd(INDArray... arrays) {
    if (!VECTOR) {
      return false;
    }
    for (INDArray a : arrays) {
      if (a.dataType() != DataType.FLOAT) {
        return false;
      }
    }
    return true;
  }

  /** Copies elements [index, index + length) of an fp32 array into dst[0, length). */
  public void readFloats(int index, float[] dst, int length) {
    floats.get(index, dst, 0, length);
  }

  /** Writes src[0, length) to elements [index, index + length) of an fp32 array. */
  public void writeFloats(int index, float[] src, int length) {
    floats.put(index, src, 0, length);
  }

  /** Copies elements [index, index + length) of an fp32 array into dst[offset, offset + length). */
  public void readFloats(int index, float[] dst, int offset, int length) {
    floats.get(index, dst, offset, length);
  }

  /** Writes src[offset, offset + length) to elements [index, index + length) of an fp32 array. */
  public void writeFloats(int index, float[] src, int offset, int length) {
    floats.put(index, src, offset, length);
  }

  /** Whether {@link #of} accepts {@code a}: dense, C-order, FLOAT or DOUBLE. */
  public static boolean dense(INDArray a) {
    return a.ordering() == 'c'
        && java.util.Arrays.equals(a.stride(), Nd4j.getStrides(a.shape(), 'c'))
        && a.length() <= Integer.MAX_VALUE
        && (a.dataType() == DataType.FLOAT || a.dataType() == DataType.DOUBLE);
  }

  private static float[] floatScratch(int length) {
    float[] f = FLOAT_SCRATCH.get();
    if (f.length < length) {
      f = new float[length];
      FLOAT_SCRATCH.set(f);
    }
    return f;
  }

  /** The body of a row loop: rows [from, to) of the work, on one thread. */
  @FunctionalInterface
  public interface Body {
    void rows(int from, int to);
  }

  /**
   * Runs body over rows [0, rows) split into one contiguous range per thread (the calling thread takes
   * the first); inline when rows · rowLength is small. Rows must be independent.
   */
  public static void parallel(int rows, long rowLength, Body body) {
    int parts = (int) Math.min(THREADS, Math.max(1, rows * rowLength / PARALLEL_MIN_ELEMENTS));
    parts = Math.min(parts, rows);
    if (parts <= 1) {
      body.rows(0, rows);
      return;
    }
    List<ForkJoinTask<?>> forked = new ArrayList<>(parts - 1);
    for (int p = 1; p < parts; p++) {
      int from = (int) ((long) rows * p / parts);
      int to = (int) ((long) rows * (p + 1) / parts);
      forked.add(POOL.submit(() -> body.rows(from, to)));
    }
    body.rows(0, rows / parts);
    for (ForkJoinTask<?> task : forked) {
      task.join();
    }
  }

  private static int threads() {
    String env = System.getenv("OMP_NUM_THREADS");
    try {
      if (env != null && Integer.parseInt(env.trim()) > 0) {
        return Integer.parseInt(env.trim());
      }
    } catch (NumberFormatException e) {
      // every core, below
    }
    return Runtime.getRuntime().availableProcessors();
  }
}

package io.peftplatform.llama.nn;

import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Row-wise access to dense C-order FLOAT, DOUBLE or BFLOAT16 arrays from Java, and a parallel loop over
 * rows on as many threads as ND4J's own ops use. The fused element-wise kernels of the layers (masked
 * softmax, RMSNorm, SwiGLU, RoPE) are written on it: one pass over memory where a chain of ND4J ops makes
 * one pass per op. Rows are read into and written from double[] scratch, so a kernel is written once and
 * computes in double for both element types (fp32 results round once, at the write). A BF16 array reads
 * as fp32 (widening is exact) and rounds to nearest even at the write: an fp32 kernel runs on it as it is.
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
  private static final ThreadLocal<short[]> SHORT_SCRATCH = ThreadLocal.withInitial(() -> new short[1024]);

  private final FloatBuffer floats;
  private final DoubleBuffer doubles;
  private final ShortBuffer bf16;

  private Rows(INDArray a) {
    if (a.ordering() != 'c' || !java.util.Arrays.equals(a.stride(), Nd4j.getStrides(a.shape(), 'c'))) {
      throw new IllegalArgumentException("a dense C-order array is needed, got strides " + java.util.Arrays.toString(a.stride()));
    }
    if (a.length() > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("arrays over 2^31 elements are not supported here: " + a.length());
    }
    floats = a.dataType() == DataType.FLOAT ? a.data().asNioFloat().position((int) a.offset()).slice() : null;
    doubles = a.dataType() == DataType.DOUBLE ? a.data().asNioDouble().position((int) a.offset()).slice() : null;
    bf16 = a.dataType() == DataType.BFLOAT16
        ? a.data().asNio().order(ByteOrder.nativeOrder()).asShortBuffer().position((int) a.offset()).slice() : null;
    if (floats == null && doubles == null && bf16 == null) {
      throw new IllegalArgumentException("FLOAT, DOUBLE or BFLOAT16 arrays only, got " + a.dataType());
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
    readFloats(index, f, length);
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
    writeFloats(index, f, length);
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

  /** Copies elements [index, index + length) of an fp32 or BF16 array into dst[0, length). */
  public void readFloats(int index, float[] dst, int length) {
    readFloats(index, dst, 0, length);
  }

  /** Writes src[0, length) to elements [index, index + length) of an fp32 or BF16 array. */
  public void writeFloats(int index, float[] src, int length) {
    writeFloats(index, src, 0, length);
  }

  /** Copies elements [index, index + length) of an fp32 or BF16 array into dst[offset, offset + length). */
  public void readFloats(int index, float[] dst, int offset, int length) {
    if (bf16 == null) {
      floats.get(index, dst, offset, length);
      return;
    }
    short[] bits = shortScratch(length);
    bf16.get(index, bits, 0, length);
    if (VECTOR) {
      VectorKernels.widenBf16(bits, dst, offset, length);
      return;
    }
    for (int i = 0; i < length; i++) {
      dst[offset + i] = widenBf16(bits[i]);
    }
  }

  /** Writes src[offset, offset + length) to elements [index, index + length) of an fp32 or BF16 array. */
  public void writeFloats(int index, float[] src, int offset, int length) {
    if (bf16 == null) {
      floats.put(index, src, offset, length);
      return;
    }
    short[] bits = shortScratch(length);
    if (VECTOR) {
      VectorKernels.roundToBf16(src, offset, bits, length);
    } else {
      for (int i = 0; i < length; i++) {
        bits[i] = roundToBf16(src[offset + i]);
      }
    }
    bf16.put(index, bits, 0, length);
  }

  /** Whether {@link #of} accepts {@code a}: dense, C-order, FLOAT, DOUBLE or BFLOAT16. */
  public static boolean dense(INDArray a) {
    return a.ordering() == 'c'
        && java.util.Arrays.equals(a.stride(), Nd4j.getStrides(a.shape(), 'c'))
        && a.length() <= Integer.MAX_VALUE
        && (a.dataType() == DataType.FLOAT || a.dataType() == DataType.DOUBLE || a.dataType() == DataType.BFLOAT16);
  }

  /** BF16 bits widened to fp32: exact. */
  static float widenBf16(short bits) {
    return Float.intBitsToFloat(bits << 16);
  }

  /** fp32 rounded to BF16 bits, to nearest even, as PyTorch rounds; a NaN stays a NaN. */
  static short roundToBf16(float value) {
    int bits = Float.floatToRawIntBits(value);
    if (Float.isNaN(value)) {
      return (short) ((bits >>> 16) | 0x40); // quiet: the carry of rounding could make it an infinity or a zero
    }
    return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
  }

  private static short[] shortScratch(int length) {
    short[] b = SHORT_SCRATCH.get();
    if (b.length < length) {
      b = new short[length];
      SHORT_SCRATCH.set(b);
    }
    return b;
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

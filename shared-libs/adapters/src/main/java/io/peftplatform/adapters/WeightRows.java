package io.peftplatform.adapters;

import io.peftplatform.llama.nn.Rows;
import java.nio.ByteOrder;
import java.nio.ShortBuffer;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Rows of a frozen weight held in fp32 or BF16, read as fp32 (widening BF16 is exact): for the adapters' kernels. */
final class WeightRows {
  private static final ThreadLocal<short[]> HALVES = ThreadLocal.withInitial(() -> new short[0]);

  private final Rows floats;
  private final ShortBuffer halves;

  private WeightRows(INDArray w) {
    if (w.dataType() == DataType.BFLOAT16) {
      floats = null;
      halves = w.data().asNio().order(ByteOrder.nativeOrder()).asShortBuffer().position((int) w.offset()).slice();
    } else {
      floats = Rows.of(w);
      halves = null;
    }
  }

  /** Whether {@link #of} reads {@code w}: dense, C-order, fp32 or BF16. */
  static boolean readable(INDArray w) {
    return (w.dataType() == DataType.FLOAT || w.dataType() == DataType.BFLOAT16) && w.ordering() == 'c'
        && Arrays.equals(w.stride(), Nd4j.getStrides(w.shape(), 'c')) && w.length() <= Integer.MAX_VALUE;
  }

  static WeightRows of(INDArray w) {
    return new WeightRows(w);
  }

  /** Elements [index, index + length) into dst[0, length), as fp32. */
  void read(int index, float[] dst, int length) {
    if (floats != null) {
      floats.readFloats(index, dst, length);
      return;
    }
    short[] raw = HALVES.get();
    if (raw.length < length) {
      raw = new short[length];
      HALVES.set(raw);
    }
    halves.get(index, raw, 0, length);
    for (int i = 0; i < length; i++) {
      dst[i] = Float.intBitsToFloat(raw[i] << 16);
    }
  }
}

package io.peftplatform.llama.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class RowsTest {
  @Test
  void readsAndWritesARowViewAtItsOffsetInBothTypes() {
    for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
      INDArray a = Nd4j.arange(0, 24).castTo(type).reshape('c', 6, 4);
      INDArray lower = a.get(interval(2, 6), all()); // rows 2..5: a dense view starting at element 8
      Rows rows = Rows.of(lower);
      double[] row = new double[4];
      rows.read(4, row, 4);
      assertThat(row).containsExactly(12, 13, 14, 15);
      rows.write(0, new double[] {-1, -2, -3, -4}, 4);
      assertThat(a.getRow(2).toDoubleVector()).containsExactly(-1, -2, -3, -4);
      assertThat(a.getRow(1).toDoubleVector()).containsExactly(4, 5, 6, 7);
    }
  }

  /** A BF16 array reads widened (exact) and writes rounded to nearest even as PyTorch rounds (NaN stays NaN), at a view's offset. */
  @Test
  void readsAndWritesBf16AsFp32() {
    java.util.Random rng = new java.util.Random(2);
    int cols = 37; // a vector's worth and a tail
    float[] values = new float[cols];
    for (int i = 0; i < cols; i++) {
      values[i] = (float) (rng.nextGaussian() * Math.pow(10, rng.nextInt(7) - 3));
    }
    values[0] = Float.intBitsToFloat(0x3f808000); // a tie: rounds down to the even 0x3f80
    values[1] = Float.intBitsToFloat(0x3f818000); // a tie: rounds up to the even 0x3f82
    values[2] = Float.intBitsToFloat(0x3f808001); // just above a tie: up
    values[3] = Float.NEGATIVE_INFINITY;
    values[4] = -0f;
    values[5] = Float.intBitsToFloat(0x7fffffff); // NaNs whose rounding carry would wrap to a zero or an infinity
    values[6] = Float.intBitsToFloat(0xff800001);
    values[cols - 1] = Float.intBitsToFloat(0xffffffff); // in the tail
    INDArray a = Nd4j.create(DataType.BFLOAT16, 3, cols);
    Rows rows = Rows.of(a.get(interval(1, 3), all())); // starts at element 37
    rows.writeFloats(cols, values, cols); // the view's second row: a's third
    float[] back = new float[cols + 2];
    rows.readFloats(cols, back, 2, cols);
    for (int i = 0; i < cols; i++) {
      short expected = io.peftplatform.safetensors.HalfFloats.floatToBf16(values[i]);
      assertThat(Float.floatToRawIntBits(back[2 + i])).as("value %d: %s", i, values[i]).isEqualTo(expected << 16);
      assertThat(Float.floatToRawIntBits(a.getFloat(2, i))).isEqualTo(Float.floatToRawIntBits(back[2 + i]));
    }
    assertThat(a.getRow(1).amaxNumber().doubleValue()).as("the row before is untouched").isZero();
    double[] wide = new double[cols];
    rows.read(cols, wide, cols);
    assertThat(wide[1]).isEqualTo(back[3]);
  }

  @Test
  void refusesArraysThatAreNotDenseCOrderOrNotFloatingPoint() {
    INDArray a = Nd4j.rand(DataType.FLOAT, 3, 4);
    assertThatThrownBy(() -> Rows.of(a.transpose())).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dense C-order");
    assertThatThrownBy(() -> Rows.of(a.get(all(), interval(0, 2)))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Rows.of(Nd4j.create(DataType.INT, 2, 2))).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("FLOAT, DOUBLE or BFLOAT16");
  }

  @Test
  void theParallelLoopVisitsEveryRowOnce() {
    for (int rows : new int[] {1, 7, 1000, 100_003}) {
      AtomicIntegerArray seen = new AtomicIntegerArray(rows);
      Rows.parallel(rows, 64, (from, to) -> {
        for (int r = from; r < to; r++) {
          seen.incrementAndGet(r);
        }
      });
      for (int r = 0; r < rows; r++) {
        assertThat(seen.get(r)).as("row %d of %d", r, rows).isEqualTo(1);
      }
    }
  }
}

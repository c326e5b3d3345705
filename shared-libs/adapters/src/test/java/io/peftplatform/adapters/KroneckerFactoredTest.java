package io.peftplatform.adapters;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The row-wise Kronecker products in both precisions against the definition: K = s·(W₁ ⊗ W₂) built with
 * ND4J's ops (an outer product laid out (a, b, c, d), permuted to (a, c, b, d)), then y += x·Kᵀ,
 * dx += dy·K and the factors' gradients from G = dyᵀ·x contracted element by element. Shapes: odd sizes
 * that pad every row and column, one row (a generated token), and smollm2's layers' factors (24 x 24
 * for 576, 12 x 16 for 192, 32 x 48 for 1536), enough rows to split over the threads.
 */
class KroneckerFactoredTest {
  @ParameterizedTest(name = "W1 {0}x{1}, W2 {2}x{3}, {4} rows")
  @CsvSource({
    "3, 5, 7, 6, 9",
    "3, 5, 7, 6, 1",
    "24, 24, 24, 24, 70",
    "12, 24, 16, 24, 33",
    "32, 24, 48, 24, 65",
    "24, 32, 24, 48, 40"
  })
  void productsAndGradientsMatchTheDefinition(int a, int b, int c, int d, int rows) {
    Nd4j.getRandom().setSeed(7);
    INDArray w1 = Nd4j.randn(DataType.DOUBLE, a, b);
    INDArray w2 = Nd4j.randn(DataType.DOUBLE, c, d);
    INDArray x = Nd4j.randn(DataType.DOUBLE, rows, b * d);
    INDArray dy = Nd4j.randn(DataType.DOUBLE, rows, a * c);
    INDArray y0 = Nd4j.randn(DataType.DOUBLE, rows, a * c);
    INDArray dx0 = Nd4j.randn(DataType.DOUBLE, rows, b * d);
    double s = 0.75;
    INDArray outer = w1.reshape('c', (long) a * b, 1).mmul(w2.reshape('c', 1, (long) c * d));
    INDArray kron = outer.reshape('c', a, b, c, d).permute(0, 2, 1, 3).dup('c').reshape('c', (long) a * c, (long) b * d).muli(s);
    INDArray expectedY = y0.add(x.mmul(kron.transpose()));
    INDArray expectedDx = dx0.add(dy.mmul(kron));
    double[][] g = dy.transpose().mmul(x).toDoubleMatrix();
    double[][] f1 = w1.toDoubleMatrix();
    double[][] f2 = w2.toDoubleMatrix();
    double[][] e1 = new double[a][b];
    double[][] e2 = new double[c][d];
    for (int i = 0; i < a; i++) {
      for (int j = 0; j < b; j++) {
        for (int k = 0; k < c; k++) {
          for (int l = 0; l < d; l++) {
            e1[i][j] += s * g[i * c + k][j * d + l] * f2[k][l];
            e2[k][l] += s * f1[i][j] * g[i * c + k][j * d + l];
          }
        }
      }
    }
    for (DataType type : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
      double tolerance = type == DataType.DOUBLE ? 1e-11 : 1e-4;
      INDArray y = y0.castTo(type).dup(); // castTo to its own type returns the array itself
      KroneckerFactored.forward(y, x.castTo(type), w1.castTo(type), w2.castTo(type), s);
      assertClose(type + " y", y, expectedY, tolerance);
      INDArray dx = dx0.castTo(type).dup();
      INDArray dw1 = Nd4j.create(type, a, b).assign(Double.NaN);
      INDArray dw2 = Nd4j.create(type, c, d).assign(Double.NaN);
      KroneckerFactored.backward(dx, dy.castTo(type), x.castTo(type), w1.castTo(type), w2.castTo(type), s, dw1, dw2);
      assertClose(type + " dx", dx, expectedDx, tolerance);
      assertClose(type + " dW1", dw1, Nd4j.createFromArray(e1), tolerance * Math.sqrt(rows));
      assertClose(type + " dW2", dw2, Nd4j.createFromArray(e2), tolerance * Math.sqrt(rows));
    }
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"DOUBLE", "FLOAT"})
  void viewsAreReadAndWrittenThroughTheirStrides(DataType type) {
    Nd4j.getRandom().setSeed(8);
    int a = 3, b = 4, c = 5, d = 6, rows = 7;
    INDArray w1 = Nd4j.randn(type, a, b);
    INDArray w2 = Nd4j.randn(type, c, d);
    INDArray wide = Nd4j.randn(type, rows, 2 * b * d);
    INDArray x = wide.get(NDArrayIndex.all(), NDArrayIndex.interval(b * d, 2 * b * d));
    INDArray outWide = Nd4j.randn(type, rows, 3 * a * c);
    INDArray y = outWide.get(NDArrayIndex.all(), NDArrayIndex.interval(a * c, 2 * a * c));
    INDArray expectedY = y.dup('c');
    KroneckerFactored.forward(expectedY, x.dup('c'), w1, w2, 0.5);
    INDArray before = outWide.dup('c');
    KroneckerFactored.forward(y, x, w1, w2, 0.5);
    assertClose("y in a view", y.dup('c'), expectedY, 1e-6); // (assertClose reads a dense array's buffer)
    assertClose("the rest untouched", outWide.get(NDArrayIndex.all(), NDArrayIndex.interval(0, a * c)).dup('c'),
        before.get(NDArrayIndex.all(), NDArrayIndex.interval(0, a * c)).dup('c'), 1e-30);
    INDArray dy = outWide.get(NDArrayIndex.all(), NDArrayIndex.interval(2 * a * c, 3 * a * c));
    INDArray dx = Nd4j.zeros(type, rows, 2 * b * d).get(NDArrayIndex.all(), NDArrayIndex.interval(0, b * d));
    INDArray expectedDx = Nd4j.zeros(type, rows, b * d);
    INDArray dw1 = Nd4j.create(type, a, b);
    INDArray dw2 = Nd4j.create(type, c, d);
    KroneckerFactored.backward(expectedDx, dy.dup('c'), x.dup('c'), w1, w2, 0.5, dw1, dw2);
    KroneckerFactored.backward(dx, dy, x, w1, w2, 0.5, Nd4j.create(type, a, b), Nd4j.create(type, c, d));
    assertClose("dx in a view", dx.dup('c'), expectedDx, 1e-6);
  }

  /** The largest error relative to max(1, |expected|) below tolerance; NaN fails. Reads dense arrays' buffers. */
  private static void assertClose(String what, INDArray got, INDArray expected, double tolerance) {
    double[] x = got.castTo(DataType.DOUBLE).data().asDouble();
    double[] y = expected.castTo(DataType.DOUBLE).data().asDouble();
    double worst = 0;
    for (int i = 0; i < y.length; i++) {
      double e = Math.abs(x[i] - y[i]) / Math.max(1, Math.abs(y[i]));
      worst = Double.isNaN(e) ? Double.POSITIVE_INFINITY : Math.max(worst, e);
    }
    assertThat(worst).as(what).isLessThan(tolerance);
  }
}

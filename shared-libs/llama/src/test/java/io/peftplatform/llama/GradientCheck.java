package io.peftplatform.llama;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.function.DoubleSupplier;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Central finite differences in double precision against an analytic gradient: every element of the
 * parameter is nudged by ±eps and the loss recomputed. An element passes when its relative error is at
 * most {@link #MAX_RELATIVE_ERROR}, or both gradients are below {@link #ABSOLUTE_FLOOR} (where relative
 * error is noise).
 */
public final class GradientCheck {
  public static final double EPS = 1e-6;
  public static final double MAX_RELATIVE_ERROR = 1e-3;
  public static final double ABSOLUTE_FLOOR = 1e-8;

  private GradientCheck() {}

  /** @return the largest relative error seen, after asserting every element passes */
  public static double check(String name, INDArray param, INDArray analytic, DoubleSupplier loss) {
    return check(name, param, analytic, loss, Integer.MAX_VALUE);
  }

  /** Checks at most {@code maxElements} elements, evenly spread (every one when there are fewer). */
  public static double check(String name, INDArray param, INDArray analytic, DoubleSupplier loss, int maxElements) {
    assertThat(param.dataType()).as("gradient checks run in fp64").isEqualTo(DataType.DOUBLE);
    assertThat(analytic.shape()).isEqualTo(param.shape());
    INDArray flat = param.reshape(param.length());
    INDArray grads = analytic.reshape(analytic.length());
    double worst = 0;
    int nonZero = 0;
    long stride = Math.max(1, (flat.length() + maxElements - 1) / maxElements);
    long checked = 0;
    for (long i = 0; i < flat.length(); i += stride) {
      checked++;
      double original = flat.getDouble(i);
      flat.putScalar(i, original + EPS);
      double plus = loss.getAsDouble();
      flat.putScalar(i, original - EPS);
      double minus = loss.getAsDouble();
      flat.putScalar(i, original);
      double numeric = (plus - minus) / (2 * EPS);
      double a = grads.getDouble(i);
      double diff = Math.abs(a - numeric);
      if (Math.abs(a) < ABSOLUTE_FLOOR && Math.abs(numeric) < ABSOLUTE_FLOOR) {
        continue;
      }
      nonZero++;
      double relative = diff / Math.max(Math.abs(a), Math.abs(numeric));
      worst = Math.max(worst, relative);
      assertThat(relative)
          .as("%s[%d]: analytic %.10g, numeric %.10g", name, i, a, numeric)
          .isLessThanOrEqualTo(MAX_RELATIVE_ERROR);
    }
    assertThat(nonZero).as("%s has gradients to check", name).isPositive();
    System.out.printf("gradient check %-36s %5d of %5d elements, max relative error %.2e%n", name, checked, flat.length(), worst);
    return worst;
  }
}

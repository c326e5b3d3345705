package io.peftplatform.merging.learned;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * ∂L/∂θ of every coefficient against central finite differences of the loss in double precision (eps
 * 1e-6), for each learned objective on the golden fixtures' model and experts: the check that needs no
 * reference, and that fails if any part of the chain (chunks, activation, heads, hidden states, pull) is
 * wrong.
 */
class LearnedMergeGradientTest {
  static final double EPS = 1e-6;
  static final double MAX_RELATIVE_ERROR = 1e-3;

  @ParameterizedTest
  @ValueSource(strings = {"expert-merging", "expert-merging-whole-model", "ada-merging"})
  void everyCoefficientGradientMatchesFiniteDifferences(String name) throws Exception {
    JsonNode f = new ObjectMapper().readTree(GoldenLearnedMergeTest.golden(name + ".json").toFile());
    LearnedMerge merge = GoldenLearnedMergeTest.fromFixture(f, DataType.DOUBLE);
    List<int[]> texts = GoldenLearnedMergeTest.allTexts(f);
    merge.lossAndGradient(texts, 0);
    double[] analytic = merge.gradient();
    double[] raw = merge.raw();
    double largest = 0;
    for (double g : analytic) {
      largest = Math.max(largest, Math.abs(g));
    }
    double worst = 0;
    int checked = 0;
    for (int i = 0; i < raw.length; i++) {
      if (f.get("method").asText().equals("ada_merging") && (Math.abs(raw[i]) < 2 * EPS || Math.abs(raw[i] - 1) < 2 * EPS)) {
        continue; // the clamp's kinks
      }
      double[] plus = raw.clone();
      plus[i] += EPS;
      merge.setRaw(plus);
      double up = merge.lossAndGradient(texts, 0).loss();
      double[] minus = raw.clone();
      minus[i] -= EPS;
      merge.setRaw(minus);
      double down = merge.lossAndGradient(texts, 0).loss();
      double numeric = (up - down) / (2 * EPS);
      // relative to the larger of the two, with a floor of 1e-3 of the largest gradient for near-zero ones
      double error = Math.abs(numeric - analytic[i]) / Math.max(Math.max(Math.abs(numeric), Math.abs(analytic[i])), 1e-3 * largest);
      worst = Math.max(worst, error);
      checked++;
      assertThat(error).as("coefficient %d: analytic %g, numeric %g", i, analytic[i], numeric).isLessThan(MAX_RELATIVE_ERROR);
    }
    merge.setRaw(raw);
    System.out.printf("%s: %d coefficients checked, max relative error %.2e%n", name, checked, worst);
    assertThat(checked).isGreaterThan(raw.length / 2);
  }
}

package io.peftplatform.adapters;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.peftplatform.llama.LlamaWeights;
import io.peftplatform.llama.TestModels;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.nn.FrozenLinear;
import io.peftplatform.llama.nn.LinearLayer;
import io.peftplatform.training.spec.AdapterMethod;
import io.peftplatform.training.spec.AdapterSpec;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One DoRA layer against the gradient written out from its definition (with G = dyᵀ·x: ∂m = rowsum(W' ⊙ G) /
 * ‖W'‖, ∂B = s·(g ⊙ G)·Aᵀ, ∂A = s·Bᵀ·(g ⊙ G), dx = (g ⊙ dy)·W'), whether backward reads u = W'·x from its own
 * copy or back from the output the caller kept — including a zero magnitude, where y says nothing of u.
 */
class DoraLinearTest {
  @ParameterizedTest(name = "{0} biases {1}")
  @CsvSource({"DOUBLE, false, 1e-11", "DOUBLE, true, 1e-11", "FLOAT, false, 2e-5", "FLOAT, true, 2e-5"})
  void backwardMatchesTheDefinitionWithOrWithoutTheKeptOutput(DataType type, boolean biases, double tolerance) {
    Nd4j.getRandom().setSeed(3);
    LlamaConfig config = AdapterGradientTest.tinyConfig(biases);
    LlamaWeights weights = TestModels.randomize(LlamaWeights.random(config, 3, type));
    Adapter adapter = Adapter.create(AdapterSpec.defaults(AdapterMethod.DORA).withRank(2).withAlpha(4.0).withSeed(5), config, type);
    adapter.attach(weights);
    INDArray values = adapter.parameters().values();
    values.addi(Nd4j.randn(type, values.shape()).muli(0.3));
    adapter.training(1);
    for (AdapterLayer layer : adapter.layers()) {
      DoraLinear dora = (DoraLinear) layer;
      String m = layer.plan().name("lora_magnitude_vector");
      INDArray magnitude = adapter.parameters().value(m);
      for (boolean zeroMagnitude : new boolean[] {false, true}) {
        if (zeroMagnitude) {
          magnitude.putScalar(1, 0.0);
        }
        long n = 7;
        INDArray x = Nd4j.randn(type, n, layer.inFeatures());
        INDArray dy = Nd4j.randn(type, n, layer.outFeatures());
        Expected expected = expected(dora, adapter, x, dy);
        for (boolean kept : new boolean[] {false, true}) {
          String what = layer.module() + (kept ? " kept output" : " own copy") + (zeroMagnitude ? ", a zero magnitude" : "");
          adapter.parameters().zeroGrads();
          INDArray y = Nd4j.create(type, n, layer.outFeatures());
          layer.forward(y, x, kept ? LinearLayer.Next.BACKWARD_WITH_OUTPUT : LinearLayer.Next.BACKWARD);
          INDArray dx = Nd4j.create(type, n, layer.inFeatures());
          layer.backward(dx, dy, x, kept ? y : null);
          close(what + " y", y, expected.y, tolerance);
          close(what + " dx", dx, expected.dx, tolerance);
          close(what + " ∂m", adapter.parameters().grad(m), expected.dm, tolerance);
          close(what + " ∂A", adapter.parameters().grad(layer.plan().name("lora_A")), expected.da, tolerance);
          close(what + " ∂B", adapter.parameters().grad(layer.plan().name("lora_B")), expected.db, tolerance);
        }
      }
    }
  }

  @ParameterizedTest(name = "dropout {0}")
  @CsvSource({"0.0", "0.3"})
  void forwardGivesTheSameWhateverFollows(double dropout) {
    Nd4j.getRandom().setSeed(6);
    LlamaConfig config = AdapterGradientTest.tinyConfig(false);
    Adapter adapter = Adapter.create(AdapterSpec.defaults(AdapterMethod.DORA).withRank(2).withDropout(dropout).withSeed(5), config,
        DataType.DOUBLE);
    adapter.attach(TestModels.randomize(LlamaWeights.random(config, 3, DataType.DOUBLE)));
    INDArray values = adapter.parameters().values();
    values.addi(Nd4j.randn(DataType.DOUBLE, values.shape()).muli(0.3));
    adapter.training(2);
    for (AdapterLayer layer : adapter.layers()) {
      INDArray x = Nd4j.randn(DataType.DOUBLE, 5, layer.inFeatures());
      INDArray[] ys = new INDArray[LinearLayer.Next.values().length];
      for (LinearLayer.Next next : LinearLayer.Next.values()) {
        ys[next.ordinal()] = Nd4j.create(DataType.DOUBLE, 5, layer.outFeatures());
        layer.forward(ys[next.ordinal()], x, next);
      }
      assertThat(ys[0]).as(layer.module() + " NOTHING vs BACKWARD").isEqualTo(ys[1]);
      assertThat(ys[2]).as(layer.module() + " BACKWARD_WITH_OUTPUT vs BACKWARD").isEqualTo(ys[1]);
    }
  }

  @ParameterizedTest
  @CsvSource({"false", "true"})
  void backwardRefusesWhatForwardDidNotLeaveIt(boolean kept) {
    Nd4j.getRandom().setSeed(4);
    LlamaConfig config = AdapterGradientTest.tinyConfig(false);
    Adapter adapter = Adapter.create(AdapterSpec.defaults(AdapterMethod.DORA).withRank(2).withSeed(5), config, DataType.DOUBLE);
    adapter.attach(LlamaWeights.random(config, 3, DataType.DOUBLE));
    AdapterLayer layer = adapter.layers().get(0);
    INDArray x = Nd4j.randn(DataType.DOUBLE, 3, layer.inFeatures());
    INDArray y = Nd4j.create(DataType.DOUBLE, 3, layer.outFeatures());
    INDArray dx = Nd4j.create(DataType.DOUBLE, 3, layer.inFeatures());
    layer.forward(y, x, kept ? LinearLayer.Next.BACKWARD_WITH_OUTPUT : LinearLayer.Next.NOTHING);
    assertThatThrownBy(() -> layer.backward(dx, y, x, null)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(kept ? "output is kept" : "without a forward");
  }

  /**
   * Outside training, with no backward to follow (generating), the layer keeps g = m / ‖W'‖ between calls —
   * only while A, B and m are what it was computed from: each changed in turn, in place, the next output
   * is the definition's with the new value.
   */
  @ParameterizedTest(name = "biases {0}")
  @CsvSource({"false", "true"})
  void inferenceKeepsTheScaleOnlyWhileTheParametersStay(boolean biases) {
    Nd4j.getRandom().setSeed(11);
    LlamaConfig config = AdapterGradientTest.tinyConfig(biases);
    Adapter adapter = Adapter.create(AdapterSpec.defaults(AdapterMethod.DORA).withRank(2).withAlpha(4.0).withSeed(5), config,
        DataType.FLOAT);
    adapter.attach(TestModels.randomize(LlamaWeights.random(config, 3, DataType.FLOAT)));
    INDArray values = adapter.parameters().values();
    values.addi(Nd4j.randn(DataType.FLOAT, values.shape()).muli(0.3));
    adapter.inference();
    for (AdapterLayer layer : adapter.layers()) {
      DoraLinear dora = (DoraLinear) layer;
      for (String changed : new String[] {"none", "lora_A", "lora_B", "lora_magnitude_vector", "none"}) {
        if (!changed.equals("none")) {
          adapter.parameters().value(layer.plan().name(changed)).getScalar(1).addi(0.5);
        }
        for (long n : new long[] {1, 4}) {
          INDArray x = Nd4j.randn(DataType.FLOAT, n, layer.inFeatures());
          INDArray y = Nd4j.create(DataType.FLOAT, n, layer.outFeatures());
          layer.forward(y, x, LinearLayer.Next.NOTHING);
          INDArray expected = expected(dora, adapter, x, Nd4j.zeros(DataType.FLOAT, n, layer.outFeatures())).y;
          close(layer.module() + " after changing " + changed + ", " + n + " rows", y, expected, 2e-5);
        }
      }
    }
  }

  /** W' = W + s·B·A and its row norms in one pass, from an fp32 weight or a BF16 one (widened exactly). */
  @org.junit.jupiter.api.Test
  void composeGivesTheAdaptedWeightAndItsNorms() {
    Nd4j.getRandom().setSeed(9);
    INDArray w = Nd4j.randn(DataType.FLOAT, 37, 53);
    INDArray w16 = w.castTo(DataType.BFLOAT16);
    INDArray b = Nd4j.randn(DataType.FLOAT, 37, 3);
    INDArray a = Nd4j.randn(DataType.FLOAT, 3, 53);
    INDArray widened = w16.castTo(DataType.FLOAT);
    INDArray expected = widened.castTo(DataType.DOUBLE).add(b.castTo(DataType.DOUBLE).mmul(a.castTo(DataType.DOUBLE)).muli(0.5));
    for (INDArray weight : new INDArray[] {widened, w16}) {
      INDArray adapted = Nd4j.create(DataType.FLOAT, 37, 53);
      INDArray norm = Nd4j.create(DataType.FLOAT, 37);
      DoraKernels.compose(adapted, norm, weight, b, a, 0.5f);
      close(weight.dataType() + " W'", adapted, expected, 1e-6);
      close(weight.dataType() + " ‖W'‖", norm, expected.norm2(1), 1e-6);
    }
  }

  record Expected(INDArray y, INDArray dx, INDArray dm, INDArray da, INDArray db) {}

  /** The layer's outputs and gradients from the definition, in fp64. */
  static Expected expected(DoraLinear layer, Adapter adapter, INDArray x32, INDArray dy32) {
    ModulePlan plan = layer.plan();
    INDArray x = x32.castTo(DataType.DOUBLE);
    INDArray dy = dy32.castTo(DataType.DOUBLE);
    INDArray a = adapter.parameters().value(plan.name("lora_A")).castTo(DataType.DOUBLE);
    INDArray b = adapter.parameters().value(plan.name("lora_B")).castTo(DataType.DOUBLE);
    INDArray m = adapter.parameters().value(plan.name("lora_magnitude_vector")).castTo(DataType.DOUBLE);
    FrozenLinear base = layer.base;
    INDArray w = base.weight().castTo(DataType.DOUBLE).add(b.mmul(a).muli(plan.scaling())); // W' (out, in)
    INDArray norm = w.norm2(1);
    INDArray g = m.div(norm);
    INDArray y = x.mmul(w.transpose()).muliRowVector(g);
    if (base.bias() != null) {
      y.addiRowVector(base.bias().castTo(DataType.DOUBLE));
    }
    INDArray gram = dy.transpose().mmul(x); // G (out, in)
    INDArray dm = w.mul(gram).sum(1).divi(norm);
    INDArray gg = gram.mulColumnVector(g);
    INDArray db = gg.mmul(a.transpose()).muli(plan.scaling());
    INDArray da = b.transpose().mmul(gg).muli(plan.scaling());
    INDArray dx = dy.mulRowVector(g).mmul(w);
    return new Expected(y, dx, dm, da, db);
  }

  /** Worst |actual − expected| over the largest |expected|, element by element (NaN counts as a failure). */
  static void close(String what, INDArray actual, INDArray expected, double tolerance) {
    double[] got = actual.castTo(DataType.DOUBLE).reshape(actual.length()).toDoubleVector();
    double[] want = expected.reshape(expected.length()).toDoubleVector();
    double scale = 1e-30;
    for (double v : want) {
      scale = Math.max(scale, Math.abs(v));
    }
    double worst = 0;
    for (int i = 0; i < want.length; i++) {
      double e = Math.abs(got[i] - want[i]) / scale;
      worst = Double.isNaN(e) ? Double.POSITIVE_INFINITY : Math.max(worst, e);
    }
    assertThat(worst).as(what + ": worst error relative to the largest").isLessThan(tolerance);
  }
}

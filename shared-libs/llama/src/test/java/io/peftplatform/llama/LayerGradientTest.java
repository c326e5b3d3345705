package io.peftplatform.llama;

import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.config.RopeScaling;
import io.peftplatform.llama.nn.Arena;
import io.peftplatform.llama.nn.Attention;
import io.peftplatform.llama.nn.BlockActivations;
import io.peftplatform.llama.nn.CrossEntropy;
import io.peftplatform.llama.nn.Positions;
import io.peftplatform.llama.nn.RmsNorm;
import io.peftplatform.llama.nn.Rope;
import io.peftplatform.llama.nn.SwiGlu;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Finite-difference checks of every layer's backward, in fp64 (eps 1e-6, max relative error 1e-3). */
class LayerGradientTest {
  static {
    Nd4j.getRandom().setSeed(42);
  }

  static INDArray randn(long... shape) {
    return Nd4j.randn(DataType.DOUBLE, shape);
  }

  /** Σ R ⊙ y: a scalar whose gradient with respect to y is R. */
  static double project(INDArray y, INDArray r) {
    return y.mul(r).sumNumber().doubleValue();
  }

  @Test
  void rmsNorm() {
    Arena arena = new Arena(DataType.DOUBLE);
    INDArray x = randn(5, 8);
    INDArray w = randn(8);
    INDArray r = randn(5, 8);
    INDArray y = Nd4j.create(DataType.DOUBLE, 5, 8);
    INDArray rstd = Nd4j.create(DataType.DOUBLE, 5);
    RmsNorm.forward(y, rstd, x, w, 1e-5);
    INDArray dx = Nd4j.zeros(DataType.DOUBLE, 5, 8);
    RmsNorm.backward(dx, r, x, rstd, w);
    GradientCheck.check("rms_norm dx", x, dx, () -> {
      RmsNorm.forward(y, rstd, x, w, 1e-5);
      return project(y, r);
    });
  }

  @Test
  void swiGlu() {
    Arena arena = new Arena(DataType.DOUBLE);
    INDArray gate = randn(4, 6).muli(2);
    INDArray up = randn(4, 6);
    INDArray r = randn(4, 6);
    INDArray act = Nd4j.create(DataType.DOUBLE, 4, 6);
    INDArray dGate = Nd4j.create(DataType.DOUBLE, 4, 6);
    INDArray dUp = Nd4j.create(DataType.DOUBLE, 4, 6);
    INDArray sig = Nd4j.create(DataType.DOUBLE, 4, 6);
    SwiGlu.forward(act, sig, gate, up);
    SwiGlu.backward(dGate, dUp, r, gate, sig, up, arena);
    GradientCheck.check("swiglu dgate", gate, dGate, () -> {
      SwiGlu.forward(act, sig.dup(), gate, up);
      return project(act, r);
    });
    GradientCheck.check("swiglu dup", up, dUp, () -> {
      SwiGlu.forward(act, sig.dup(), gate, up);
      return project(act, r);
    });
  }

  @Test
  void ropeBackwardIsTheInverseRotation() {
    Arena arena = new Arena(DataType.DOUBLE);
    Rope rope = new Rope(RopeScaling.inverseFrequencies(8, 10000, null));
    int[] positions = {0, 1, 2, 5, 9};
    INDArray cos = Nd4j.create(DataType.DOUBLE, 5, 4);
    INDArray sin = Nd4j.create(DataType.DOUBLE, 5, 4);
    rope.tables(cos, sin, positions);
    INDArray negSin = sin.neg();
    INDArray x = randn(5, 3 * 8);
    INDArray r = randn(5, 3 * 8);
    INDArray dx = r.dup();
    Rope.apply(dx, 3, cos, negSin);
    GradientCheck.check("rope dx", x, dx, () -> {
      INDArray y = x.dup();
      Rope.apply(y, 3, cos, sin);
      return project(y, r);
    });
  }

  @Test
  void attentionWithCausalAndPaddingMask() {
    Arena arena = new Arena(DataType.DOUBLE);
    int b = 2, kvHeads = 2, group = 2, t = 4, hd = 3;
    INDArray qh = randn(b * kvHeads, group * t, hd);
    INDArray kh = randn(b * kvHeads, t, hd);
    INDArray vh = randn(b * kvHeads, t, hd);
    INDArray mask = Nd4j.create(DataType.DOUBLE, b, t, t);
    Attention.causalMask(mask, new int[] {1, 1, 1, 1, 1, 1, 0, 0}, 0, 0);
    INDArray r = randn(b * kvHeads, group * t, hd);
    INDArray ctx = Nd4j.create(DataType.DOUBLE, b * kvHeads, group * t, hd);
    INDArray probs = Nd4j.create(DataType.DOUBLE, b * kvHeads, group * t, t);
    double scale = 1 / Math.sqrt(hd);
    Attention.forward(ctx, probs, qh, kh, vh, mask, kvHeads * group, scale);
    INDArray dq = Nd4j.create(DataType.DOUBLE, qh.shape());
    INDArray dk = Nd4j.create(DataType.DOUBLE, kh.shape());
    INDArray dv = Nd4j.create(DataType.DOUBLE, vh.shape());
    Attention.backward(dq, dk, dv, r, probs, qh, kh, vh, mask, kvHeads * group, scale, arena);
    java.util.function.DoubleSupplier loss = () -> {
      INDArray c = Nd4j.create(DataType.DOUBLE, ctx.shape());
      INDArray p = Nd4j.create(DataType.DOUBLE, probs.shape());
      Attention.forward(c, p, qh, kh, vh, mask, kvHeads * group, scale);
      return project(c, r);
    };
    GradientCheck.check("attention dq", qh, dq, loss);
    GradientCheck.check("attention dk", kh, dk, loss);
    GradientCheck.check("attention dv", vh, dv, loss);
  }

  @Test
  void crossEntropyOverScoredRows() {
    Arena arena = new Arena(DataType.DOUBLE);
    INDArray hidden = randn(6, 5);
    INDArray head = randn(7, 5);
    int[] targets = {3, CrossEntropy.IGNORE, 0, 6, CrossEntropy.IGNORE, 2};
    INDArray dHidden = Nd4j.create(DataType.DOUBLE, 6, 5);
    CrossEntropy.forwardBackward(hidden, targets, head, 0.25, dHidden, arena);
    GradientCheck.check("cross_entropy dhidden", hidden, dHidden,
        () -> 0.25 * CrossEntropy.forward(hidden, targets, head, arena).loss());
  }

  /**
   * A decoder block in fp32 — the path training takes: fused attention on the projections' token rows,
   * the SIMD kernels — against the same block in fp64, whose gradient the finite differences below check.
   * Shapes past a tile (45 tokens, head dim 16, groups of 3) and a packed row with padding.
   */
  @Test
  void decoderBlockInFp32MatchesFp64() {
    LlamaConfig c = new LlamaConfig(LlamaConfig.LLAMA, 11, 96, 160, 1, 6, 2, 16, 1e-5, 10000, null, 64,
        false, false, false, false, 0, null, List.of(0), "float32");
    LlamaWeights w64 = TestModels.randomize(LlamaWeights.random(c, 3, DataType.DOUBLE));
    LlamaWeights w32 = LlamaWeights.random(c, 3, DataType.FLOAT);
    java.util.Map<String, INDArray> from = w64.byName(c);
    w32.byName(c).forEach((name, array) -> array.assign(from.get(name)));
    int b = 2, t = 45;
    int[] keyMask = new int[b * t];
    for (int j = 0; j < t; j++) {
      keyMask[j] = j < 20 ? 1 : 2;
      keyMask[t + j] = j < 38 ? 1 : 0;
    }
    INDArray in = randn(b * t, 96).muli(0.5);
    INDArray r = randn(b * t, 96);
    INDArray[] results = new INDArray[4];
    int slot = 0;
    for (LlamaWeights weights : List.of(w64, w32)) {
      DataType type = weights.dataType();
      LlamaModel model = new LlamaModel(c, weights);
      Arena arena = new Arena(type);
      Positions p = model.positions(b, t, t, 0, keyMask, arena);
      BlockActivations a = new BlockActivations(arena, "k.", "s.", b, t, t, 96, 160, 6, 2, 16);
      INDArray out = Nd4j.create(type, b * t, 96);
      a.input.assign(in);
      model.block(0).forward(out, a.input, a, p, null, arena, true);
      INDArray dIn = Nd4j.create(type, b * t, 96);
      model.block(0).backward(dIn, r.castTo(type), a, p, arena, false);
      results[slot++] = out.castTo(DataType.DOUBLE);
      results[slot++] = dIn.castTo(DataType.DOUBLE);
    }
    for (int i = 0; i < 2; i++) {
      double worst = results[i + 2].sub(results[i]).amaxNumber().doubleValue();
      double size = results[i].amaxNumber().doubleValue();
      System.out.printf("decoder block fp32 vs fp64 %-4s largest difference %.2e of %.2e%n", i == 0 ? "out" : "din", worst, size);
      org.assertj.core.api.Assertions.assertThat(worst / size).as(i == 0 ? "out" : "dIn").isLessThan(5e-5);
    }
  }

  @Test
  void decoderBlock() {
    for (var c : List.of(
        io.peftplatform.llama.checkpoint.Presets.get("tiny"),
        LlamaConfig.fromJson(io.peftplatform.llama.checkpoint.Presets.get("tiny").toJson()
            .put("attention_bias", true).put("mlp_bias", true), null))) {
      LlamaConfig small = new LlamaConfig(c.architecture(), 11, 8, 12, 1, 4, 2, 4, 1e-5, 10000, null, 64,
          false, c.attentionQkvBias(), c.attentionOutputBias(), c.mlpBias(), 0, null, List.of(0), "float32");
      LlamaModel model = new LlamaModel(small, TestModels.randomize(LlamaWeights.random(small, 3, DataType.DOUBLE)));
      DecoderBlock block = model.block(0);
      Arena arena = new Arena(DataType.DOUBLE);
      int b = 2, t = 3;
      Positions p = model.positions(b, t, t, 0, new int[] {1, 1, 1, 1, 1, 0}, arena);
      INDArray in = randn(b * t, 8);
      INDArray r = randn(b * t, 8);
      r.getRow(5).assign(0); // the padding position is never scored
      BlockActivations a = new BlockActivations(arena, "k.", "s.", b, t, t, 8, 12, 4, 2, 4);
      INDArray out = Nd4j.create(DataType.DOUBLE, b * t, 8);
      a.input.assign(in);
      block.forward(out, a.input, a, p, null, arena, true);
      INDArray dIn = Nd4j.create(DataType.DOUBLE, b * t, 8);
      block.backward(dIn, r.dup(), a, p, arena, false);
      GradientCheck.check("decoder block din" + (small.mlpBias() ? " (biases)" : ""), in, dIn, () -> {
        BlockActivations a2 = new BlockActivations(arena, "k2.", "s2.", b, t, t, 8, 12, 4, 2, 4);
        a2.input.assign(in);
        INDArray o = Nd4j.create(DataType.DOUBLE, b * t, 8);
        block.forward(o, a2.input, a2, p, null, arena, false);
        return project(o, r);
      });
    }
  }
}

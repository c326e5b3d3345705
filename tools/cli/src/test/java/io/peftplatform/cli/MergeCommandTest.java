package io.peftplatform.cli;

import static io.peftplatform.cli.PeftCliTest.peft;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** peft merge on adapters trained by peft train, checked with peft eval. */
class MergeCommandTest {
  @TempDir static Path dir;
  static TinyWorkspace w;
  static Path lora;
  static Path dora;

  @BeforeAll
  static void trainTwoAdapters() throws Exception {
    w = TinyWorkspace.create(dir);
    lora = dir.resolve("merge-lora");
    dora = dir.resolve("merge-dora");
    for (Path out : new Path[] {lora, dora}) {
      PeftCliTest.Run r = peft("train", "--model", w.model().toString(), "--data", w.data().toString(),
          "--method", out == lora ? "lora" : "dora", "--max-steps", "10", "--lr", "0.01", "--batch-size", "8", "--output", out.toString());
      assertThat(r.exitCode()).as(r.err()).isZero();
    }
  }

  static Path out(String name) {
    return dir.resolve(name);
  }

  static double loss(Path model, String... extra) throws Exception {
    return TinyWorkspace.loss(model, w.data(), extra);
  }

  @Test
  void mergesAnAdapterIntoItsBaseModel() throws Exception {
    PeftCliTest.Run r = peft("merge", "--model", w.model().toString(), "--adapter", lora.toString(), "--output", out("merged").toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out()).contains("the base model with 14 modules changed");
    assertThat(loss(out("merged"))).isCloseTo(loss(w.model(), "--adapter", lora.toString()), offset(1e-4));
  }

  @Test
  void mergesTwoAdaptersByTiesIntoAModelAndBySvdIntoOneLora() throws Exception {
    double base = loss(w.model());
    PeftCliTest.Run ties = peft("merge", "--model", w.model().toString(), "--adapter", lora.toString(), "--adapter", dora.toString(),
        "--method", "ties", "--weights", "0.6,0.6", "--density", "0.8", "--output", out("ties").toString());
    assertThat(ties.exitCode()).as(ties.err()).isZero();
    assertThat(loss(out("ties"))).isLessThan(base - 0.1);

    PeftCliTest.Run svd = peft("merge", "--model", w.model().toString(), "--adapter", lora.toString(), "--adapter", dora.toString(),
        "--method", "linear", "--rank", "8", "--output", out("svd").toString());
    assertThat(svd.exitCode()).as(svd.err()).isZero();
    assertThat(svd.out()).contains("a PEFT LORA adapter of rank 8 on 14 modules");
    assertThat(loss(w.model(), "--adapter", out("svd").toString())).isLessThan(base - 0.1);
  }

  @Test
  void badSettingsAreOneLineErrors() {
    PeftCliTest.Run method = peft("merge", "--model", w.model().toString(), "--adapter", lora.toString(), "--method", "slerp",
        "--output", out("x").toString());
    assertThat(method.exitCode()).isEqualTo(1);
    assertThat(method.err().strip()).isEqualTo(
        "peft: error: unknown merge method 'slerp'; expected one of linear, task_arithmetic, ties, dare_linear, dare_ties");
    PeftCliTest.Run weights = peft("merge", "--model", w.model().toString(), "--adapter", lora.toString(), "--adapter", dora.toString(),
        "--weights", "1", "--output", out("y").toString());
    assertThat(weights.err().strip()).isEqualTo("peft: error: weights: 1 given for 2 adapters");
  }
}

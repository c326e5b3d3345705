package io.peftplatform.cli;

import static io.peftplatform.cli.PeftCliTest.peft;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import com.fasterxml.jackson.databind.JsonNode;
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
        "peft: error: unknown merge method 'slerp'; expected one of linear, task_arithmetic, ties, dare_linear, dare_ties;"
            + " or learned: expert_merging, ada_merging");
    PeftCliTest.Run weights = peft("merge", "--model", w.model().toString(), "--adapter", lora.toString(), "--adapter", dora.toString(),
        "--weights", "1", "--output", out("y").toString());
    assertThat(weights.err().strip()).isEqualTo("peft: error: weights: 1 given for 2 adapters");
  }

  @Test
  void mergesWholeModelsFromAMergekitConfiguration() throws Exception {
    // mergekit's base+adapter form folds the DoRA adapter in; task arithmetic with weight 1 is then the folded model
    Path config = dir.resolve("fold.yml");
    java.nio.file.Files.writeString(config, """
        merge_method: task_arithmetic
        base_model: %s
        models:
          - model: %s+%s
            parameters:
              weight: 1.0
        dtype: float32
        """.formatted(w.model(), w.model(), dora));
    PeftCliTest.Run r = peft("merge", "--config", config.toString(), "--output", out("mergekit-fold").toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out()).contains("task_arithmetic of 2 models, 2 layers");
    assertThat(loss(out("mergekit-fold"))).isCloseTo(loss(w.model(), "--adapter", dora.toString()), offset(1e-4));

    // slerp halfway between the base and the LoRA-merged model lands between their losses
    PeftCliTest.Run merged = peft("merge", "--model", w.model().toString(), "--adapter", lora.toString(), "--output", out("lora-model").toString());
    assertThat(merged.exitCode()).as(merged.err()).isZero();
    Path slerp = dir.resolve("slerp.yml");
    java.nio.file.Files.writeString(slerp, """
        merge_method: slerp
        base_model: %s
        models:
          - model: %s
          - model: %s
        parameters:
          t:
            - filter: self_attn
              value: [0, 1]
            - value: 0.5
        """.formatted(w.model(), w.model(), out("lora-model")));
    PeftCliTest.Run s = peft("merge", "--config", slerp.toString(), "--output", out("slerp").toString());
    assertThat(s.exitCode()).as(s.err()).isZero();
    double half = loss(out("slerp"));
    assertThat(half).isLessThan(loss(w.model())).isGreaterThan(loss(out("lora-model")));
  }

  @Test
  void badMergekitConfigurationsAreOneLineErrors() throws Exception {
    Path config = dir.resolve("bad.yml");
    java.nio.file.Files.writeString(config, """
        merge_method: ties
        base_model: %s
        models:
          - model: %s
            parameters: {density: 0.5}
        """.formatted(w.model(), out("nowhere")));
    PeftCliTest.Run missing = peft("merge", "--config", config.toString(), "--output", out("bad").toString());
    assertThat(missing.exitCode()).isEqualTo(1);
    assertThat(missing.err().strip()).startsWith("peft: error: " + out("nowhere") + ": no such model directory").doesNotContain("\n");

    java.nio.file.Files.writeString(config, """
        merge_method: ties
        base_model: %s
        models:
          - model: %s+%s
            parameters: {density: 0.5}
        """.formatted(w.model(), w.model(), dora));
    PeftCliTest.Run weight = peft("merge", "--config", config.toString(), "--output", out("bad").toString());
    assertThat(weight.err().strip()).startsWith("peft: error: models[0].parameters.weight: required by ties");

    java.nio.file.Files.writeString(config, "merge_method: frankenmerge\nmodels: [{model: x}]\n");
    PeftCliTest.Run method = peft("merge", "--config", config.toString(), "--output", out("bad").toString());
    assertThat(method.err().strip()).startsWith("peft: error: merge_method: unknown method 'frankenmerge'; one of linear, task_arithmetic");

    PeftCliTest.Run both = peft("merge", "--config", config.toString(), "--model", w.model().toString(), "--output", out("bad").toString());
    assertThat(both.err().strip()).startsWith("peft: error: --config merges what the configuration names");
    assertThat(out("bad")).doesNotExist();
  }

  @Test
  void learnsMergeCoefficientsOnCalibrationTexts() throws Exception {
    double base = loss(w.model());
    PeftCliTest.Run em = peft("merge", "--method", "expert_merging", "--model", w.model().toString(),
        "--adapter", lora.toString(), "--calibration", w.data().toString(), "--adapter", dora.toString(), "--calibration", w.data().toString(),
        "--steps", "6", "--chunks", "2", "--output", out("expert-merging").toString());
    assertThat(em.exitCode()).as(em.err()).isZero();
    assertThat(em.out()).contains("the base model with 14 modules changed").contains("expert_merging of 2 experts");
    assertThat(em.err()).contains("step 6/6 | loss").contains("expert_merging: 56 coefficients on 14 modules of 2 experts");
    JsonNode record = TinyWorkspace.JSON.readTree(out("expert-merging").resolve("peft_merge.json").toFile());
    assertThat(record.path("experts").get(1).path("name").asText()).isEqualTo(dora.toString());
    assertThat(record.path("experts").get(1).path("calibration").asText()).isEqualTo(w.data().toString());
    JsonNode q = record.path("coefficients").path("model.layers.0.self_attn.q_proj");
    assertThat(q).hasSize(2);
    assertThat(q.get(0)).hasSize(2);
    assertThat(q.get(0).get(0).asDouble()).isStrictlyBetween(0.0, 1.0);
    assertThat(loss(out("expert-merging"))).isLessThan(base - 0.1);

    // a whole fine-tuned model (--expert) beside an adapter, each with its texts, in the order given
    PeftCliTest.Run whole = peft("merge", "--model", w.model().toString(), "--adapter", lora.toString(), "--output",
        out("lora-whole").toString());
    assertThat(whole.exitCode()).as(whole.err()).isZero();
    PeftCliTest.Run mixed = peft("merge", "--method", "expert_merging", "--model", w.model().toString(),
        "--expert", out("lora-whole").toString(), "--calibration", w.data().toString(), "--adapter", dora.toString(),
        "--calibration", w.data().toString(), "--steps", "3", "--output", out("mixed").toString());
    assertThat(mixed.exitCode()).as(mixed.err()).isZero();
    JsonNode mixedRecord = TinyWorkspace.JSON.readTree(out("mixed").resolve("peft_merge.json").toFile());
    assertThat(mixedRecord.path("experts").get(0).path("kind").asText()).isEqualTo("model");
    assertThat(mixedRecord.path("experts").get(0).path("name").asText()).isEqualTo(out("lora-whole").toString());
    assertThat(mixedRecord.path("experts").get(1).path("kind").asText()).isEqualTo("adapter");
    assertThat(loss(out("mixed"))).isLessThan(base - 0.1);

    // AdaMerging with one shared set, written as one LoRA
    PeftCliTest.Run ada = peft("merge", "--method", "ada-merging", "--model", w.model().toString(), "--adapter", lora.toString(),
        "--adapter", dora.toString(), "--calibration", w.data().toString(), "--steps", "4", "--rank", "8",
        "--output", out("ada-merging").toString());
    assertThat(ada.exitCode()).as(ada.err()).isZero();
    assertThat(ada.out()).contains("a PEFT LORA adapter of rank 8 on 14 modules").contains("ada_merging of 2 experts");
    assertThat(loss(w.model(), "--adapter", out("ada-merging").toString())).isLessThan(base - 0.1);
  }

  @Test
  void badLearnedMergesAreOneLineErrors() {
    PeftCliTest.Run count = peft("merge", "--method", "expert_merging", "--model", w.model().toString(), "--adapter", lora.toString(),
        "--adapter", dora.toString(), "--calibration", w.data().toString(), "--output", out("z").toString());
    assertThat(count.exitCode()).isEqualTo(1);
    assertThat(count.err().strip()).isEqualTo("peft: error: --calibration: expert_merging takes one per expert, in the order of"
        + " --adapter/--expert: 2 experts, 1 files");
    PeftCliTest.Run init = peft("merge", "--method", "expert_merging", "--model", w.model().toString(), "--adapter", lora.toString(),
        "--calibration", w.data().toString(), "--init", "1", "--output", out("z").toString());
    assertThat(init.err().strip()).isEqualTo("peft: error: initial_coefficient: must be in (0, 1) (a sigmoid's value), got 1.0");
    PeftCliTest.Run weights = peft("merge", "--method", "ada_merging", "--model", w.model().toString(), "--adapter", lora.toString(),
        "--calibration", w.data().toString(), "--weights", "2", "--output", out("z").toString());
    assertThat(weights.err().strip()).isEqualTo("peft: error: --weights: a learned merge learns its coefficients; leave --weights out");
    PeftCliTest.Run layer = peft("merge", "--method", "expert_merging", "--model", w.model().toString(), "--adapter", lora.toString(),
        "--calibration", w.data().toString(), "--hidden-layers", "7", "--output", out("z").toString());
    assertThat(layer.err().strip()).isEqualTo("peft: error: hidden_layers: the model has layers 0 to 1, got 7");
    PeftCliTest.Run stray = peft("merge", "--model", w.model().toString(), "--adapter", lora.toString(), "--calibration",
        w.data().toString(), "--output", out("z").toString());
    assertThat(stray.err().strip()).startsWith("peft: error: --expert, --calibration and the learning options are for the learned merges");
    assertThat(out("z")).doesNotExist();
  }
}

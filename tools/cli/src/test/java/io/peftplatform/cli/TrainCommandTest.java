package io.peftplatform.cli;

import static io.peftplatform.cli.PeftCliTest.peft;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** peft train / export / eval --adapter, end to end on a generated tiny model. */
class TrainCommandTest {
  @TempDir static Path dir;
  static Path model;
  static Path data;
  static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  static void setUp() throws Exception {
    TinyWorkspace w = TinyWorkspace.create(dir);
    model = w.model();
    data = w.data();
  }

  static double loss(String... adapter) throws Exception {
    return TinyWorkspace.loss(model, data, adapter);
  }

  @ParameterizedTest
  @ValueSource(strings = {"lora", "dora", "nola", "kronecker"})
  void trainsAnAdapterThatLowersTheLoss(String method) throws Exception {
    Path out = dir.resolve("adapter-" + method);
    PeftCliTest.Run r = peft("train", "--model", model.toString(), "--data", data.toString(), "--method", method,
        "--max-steps", "12", "--lr", method.equals("nola") ? "0.1" : "0.01", "--batch-size", "8", "--output", out.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    JsonNode summary = JSON.readTree(r.lastLine());
    assertThat(summary.get("steps").asInt()).isEqualTo(12);
    assertThat(summary.get("stop_reason").asText()).isEqualTo("completed");
    assertThat(out.resolve("adapter_config.json")).isRegularFile();
    assertThat(out.resolve("training_provenance.json")).isRegularFile();
    assertThat(r.err()).contains("step 12/12");
    double base = loss();
    double adapted = loss("--adapter", out.toString());
    System.out.printf("%s: loss %.3f -> %.3f%n", method, base, adapted);
    assertThat(adapted).isLessThan(base - 0.1);
    PeftCliTest.Run generated = peft("generate", "--model", model.toString(), "--adapter", out.toString(), "--prompt", "after the", "--max-new-tokens", "3");
    assertThat(generated.exitCode()).as(generated.err()).isZero();
  }

  @Test
  void exportsNolaAsAPeftLoraWithTheSameLoss() throws Exception {
    Path nola = dir.resolve("nola-for-export");
    assertThat(peft("train", "--model", model.toString(), "--data", data.toString(), "--method", "nola", "--max-steps", "4",
        "--lr", "0.1", "--output", nola.toString()).exitCode()).isZero();
    Path exported = dir.resolve("exported");
    PeftCliTest.Run r = peft("export", "--adapter", nola.toString(), "--format", "peft", "--output", exported.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(JSON.readTree(exported.resolve("adapter_config.json").toFile()).get("peft_type").asText()).isEqualTo("LORA");
    assertThat(loss("--adapter", exported.toString())).isCloseTo(loss("--adapter", nola.toString()), org.assertj.core.data.Offset.offset(1e-4));
    PeftCliTest.Run inspect = peft("inspect", nola.toString());
    assertThat(inspect.out()).contains("nola on 14 modules").contains("LoRA r=8 on the same modules");
  }

  @Test
  void resumesFromACheckpointAndRefusesConflictingOptions() throws Exception {
    Path out = dir.resolve("resumable");
    assertThat(peft("train", "--model", model.toString(), "--data", data.toString(), "--method", "lora", "--max-steps", "4",
        "--checkpoint-every", "2", "--output", out.toString()).exitCode()).isZero();
    Path checkpoint = out.resolve("checkpoints/checkpoint-000002");
    assertThat(checkpoint.resolve("trainer_state.json")).isRegularFile();
    PeftCliTest.Run conflict = peft("train", "--model", model.toString(), "--data", data.toString(), "--resume", checkpoint.toString(),
        "--rank", "4", "--output", dir.resolve("x").toString());
    assertThat(conflict.exitCode()).isEqualTo(1);
    assertThat(conflict.err().strip()).isEqualTo("peft: error: --resume continues the checkpoint's run; do not give --rank");
    Path resumed = dir.resolve("resumed");
    PeftCliTest.Run r = peft("train", "--model", model.toString(), "--data", data.toString(), "--resume", checkpoint.toString(),
        "--output", resumed.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(JSON.readTree(r.lastLine()).get("steps").asInt()).isEqualTo(4);
    assertThat(Files.readAllBytes(resumed.resolve("adapter_model.safetensors"))).isEqualTo(Files.readAllBytes(out.resolve("adapter_model.safetensors")));
  }

  @Test
  void dpoLearnsToPreferTheChosenAnswers() throws Exception {
    String[] words = "the river ran past the old mill where the wheel still turned".split(" ");
    java.util.List<String> lines = new java.util.ArrayList<>();
    for (int i = 0; i < 16; i++) {
      lines.add(JSON.writeValueAsString(java.util.Map.of("prompt", "after " + words[i % words.length] + " comes",
          "chosen", " wheel", "rejected", " mill"))); // one preference, whatever the prompt: learnt in a few steps
    }
    Path pairs = dir.resolve("pairs.jsonl");
    Files.write(pairs, lines);
    Path out = dir.resolve("dpo");
    PeftCliTest.Run r = peft("train", "--model", model.toString(), "--data", pairs.toString(), "--validation", pairs.toString(),
        "--method", "lora", "--objective", "dpo", "--beta", "0.5", "--max-steps", "12", "--lr", "0.02", "--output", out.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.err()).contains("by DPO (beta 0.5)").contains("on 16 pairs").contains("| acc ");
    JsonNode summary = JSON.readTree(r.lastLine());
    assertThat(summary.get("objective").asText()).isEqualTo("dpo");
    System.out.printf("dpo: loss %.3f, validation %.3f, accuracy %.2f, margin %.3f%n", summary.get("train_loss").asDouble(),
        summary.get("validation_loss").asDouble(), summary.get("validation_reward_accuracy").asDouble(),
        summary.get("validation_reward_margin").asDouble());
    assertThat(summary.get("validation_loss").asDouble()).as("below ln 2, where it starts").isLessThan(Math.log(2) - 0.1);
    assertThat(summary.get("validation_reward_accuracy").asDouble()).isGreaterThan(0.8);
    assertThat(JSON.readTree(out.resolve("training_provenance.json").toFile()).at("/objective/kind").asText()).isEqualTo("DPO");

    PeftCliTest.Run wrongData = peft("train", "--model", model.toString(), "--data", data.toString(), "--method", "lora",
        "--objective", "dpo", "--output", dir.resolve("n").toString());
    assertThat(wrongData.exitCode()).isEqualTo(1);
    assertThat(wrongData.err().strip()).startsWith("peft: error: " + data + " holds prompt/completion records, not preference pairs");
    PeftCliTest.Run wrongObjective = peft("train", "--model", model.toString(), "--data", pairs.toString(), "--method", "lora",
        "--output", dir.resolve("n").toString());
    assertThat(wrongObjective.err().strip()).startsWith("peft: error: " + pairs + " holds preference pairs");
    PeftCliTest.Run packed = peft("train", "--model", model.toString(), "--data", pairs.toString(), "--method", "lora",
        "--objective", "dpo", "--packing", "--output", dir.resolve("n").toString());
    assertThat(packed.err().strip()).isEqualTo("peft: error: packing applies to supervised training, not to preference pairs");
  }

  /** SimPO and ORPO: no reference model, the same pairs learnt; a setting of another objective's refused. */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource({"simpo, SimPO (beta 2.0, gamma 0.5)", "orpo, ORPO (lambda 0.1)"})
  void referenceFreeObjectivesLearnToPreferTheChosenAnswers(String objective, String described) throws Exception {
    String[] words = "the river ran past the old mill where the wheel still turned".split(" ");
    java.util.List<String> lines = new java.util.ArrayList<>();
    for (int i = 0; i < 16; i++) {
      lines.add(JSON.writeValueAsString(java.util.Map.of("prompt", "after " + words[i % words.length] + " comes",
          "chosen", " wheel", "rejected", " mill")));
    }
    Path pairs = dir.resolve("pairs-" + objective + ".jsonl");
    Files.write(pairs, lines);
    Path out = dir.resolve(objective);
    PeftCliTest.Run r = peft("train", "--model", model.toString(), "--data", pairs.toString(), "--validation", pairs.toString(),
        "--method", "lora", "--objective", objective, "--max-steps", "12", "--lr", "0.02", "--output", out.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.err()).contains("by " + described).contains("on 16 pairs");
    JsonNode summary = JSON.readTree(r.lastLine());
    assertThat(summary.get("objective").asText()).isEqualTo(objective);
    System.out.printf("%s: loss %.3f, validation %.3f, accuracy %.2f, margin %.3f%n", objective, summary.get("train_loss").asDouble(),
        summary.get("validation_loss").asDouble(), summary.get("validation_reward_accuracy").asDouble(),
        summary.get("validation_reward_margin").asDouble());
    assertThat(summary.get("validation_reward_accuracy").asDouble()).isGreaterThan(0.8);
    assertThat(summary.get("validation_reward_margin").asDouble()).isPositive();

    String other = objective.equals("simpo") ? "--beta" : "--gamma";
    PeftCliTest.Run refused = peft("train", "--model", model.toString(), "--data", pairs.toString(), "--method", "lora",
        "--objective", objective.equals("simpo") ? "supervised" : "orpo", other, "0.5", "--output", dir.resolve("n").toString());
    assertThat(refused.exitCode()).isNotZero();
    assertThat(refused.err().strip()).startsWith("peft: error: " + other);
  }

  @Test
  void packedTrainingEndsWithTheUnpackedLoss() throws Exception {
    PeftCliTest.Run plain = peft("train", "--model", model.toString(), "--data", data.toString(), "--method", "lora",
        "--max-steps", "3", "--lr", "0.01", "--output", dir.resolve("unpacked").toString());
    PeftCliTest.Run packed = peft("train", "--model", model.toString(), "--data", data.toString(), "--method", "lora",
        "--max-steps", "3", "--lr", "0.01", "--packing", "--output", dir.resolve("packed").toString());
    assertThat(packed.exitCode()).as(packed.err()).isZero();
    double a = JSON.readTree(plain.lastLine()).get("train_loss").asDouble();
    double b = JSON.readTree(packed.lastLine()).get("train_loss").asDouble();
    assertThat(b).isCloseTo(a, org.assertj.core.data.Offset.offset(1e-4 * a)); // fp32: the same sums in another order
  }

  @Test
  void bf16PrecisionTrainsCloseToFp32AndIsKeptByTheCheckpoint() throws Exception {
    PeftCliTest.Run fp32 = peft("train", "--model", model.toString(), "--data", data.toString(), "--method", "lora",
        "--max-steps", "3", "--lr", "0.01", "--checkpoint-every", "3", "--output", dir.resolve("fp32").toString());
    PeftCliTest.Run bf16 = peft("train", "--model", model.toString(), "--data", data.toString(), "--method", "lora",
        "--max-steps", "3", "--lr", "0.01", "--checkpoint-every", "3", "--precision", "bf16", "--output", dir.resolve("bf16").toString());
    assertThat(bf16.exitCode()).as(bf16.err()).isZero();
    assertThat(bf16.err()).contains("with BF16 products");
    double a = JSON.readTree(fp32.lastLine()).get("train_loss").asDouble();
    double b = JSON.readTree(bf16.lastLine()).get("train_loss").asDouble();
    assertThat(b).isNotEqualTo(a).isCloseTo(a, org.assertj.core.data.Offset.offset(0.01 + 0.01 * a));
    assertThat(io.peftplatform.training.TrainingCheckpoint.readRun(io.peftplatform.training.TrainingCheckpoint.directoryFor(dir.resolve("bf16"), 3)).spec().training().precision())
        .isEqualTo(io.peftplatform.training.spec.TrainingConfig.Precision.BF16);
    PeftCliTest.Run bad = peft("train", "--model", model.toString(), "--data", data.toString(), "--method", "lora", "--precision", "fp16",
        "--output", dir.resolve("n").toString());
    assertThat(bad.err().strip()).isEqualTo("peft: error: precision must be fp32 or bf16, got 'fp16'");
  }

  @Test
  void badOptionsAreOneLineErrors() {
    PeftCliTest.Run noMethod = peft("train", "--model", model.toString(), "--data", data.toString(), "--output", dir.resolve("n").toString());
    assertThat(noMethod.err().strip()).isEqualTo("peft: error: --method is required (lora, dora, nola or kronecker)");
    PeftCliTest.Run badMethod = peft("train", "--model", model.toString(), "--data", data.toString(), "--method", "ia3", "--output", dir.resolve("n").toString());
    assertThat(badMethod.err().strip()).isEqualTo("peft: error: method must be one of lora, dora, nola, kronecker, got 'ia3'");
    PeftCliTest.Run badTarget = peft("train", "--model", model.toString(), "--data", data.toString(), "--method", "lora",
        "--target-modules", "q_proj,lm_head", "--output", dir.resolve("n").toString());
    assertThat(badTarget.err()).contains("target module 'lm_head' is not a linear module");
    PeftCliTest.Run badRank = peft("train", "--model", model.toString(), "--data", data.toString(), "--method", "lora", "--rank", "0", "--output", dir.resolve("n").toString());
    assertThat(badRank.err().strip()).isEqualTo("peft: error: rank must be at least 1, got 0");
    assertThat(badRank.exitCode()).isEqualTo(1);
  }
}

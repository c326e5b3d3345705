package io.peftplatform.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the CLI in-process as a user would, on a checkpoint it generates itself. */
class PeftCliTest {
  @TempDir static Path dir;
  static Path model;

  public record Run(int exitCode, String out, String err) {
    String lastLine() {
      List<String> lines = out.strip().lines().toList();
      return lines.get(lines.size() - 1);
    }
  }

  public static Run peft(String... args) {
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      int code = PeftCli.execute(args);
      return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  @BeforeAll
  static void initModel() {
    model = dir.resolve("m");
    Run r = peft("init-model", "--preset", "tiny", "--output", model.toString(), "--seed", "7");
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out()).contains("tiny").contains("158,016 parameters");
  }

  @Test
  void initModelWritesAHuggingFaceDirectory() {
    for (String f : List.of("config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")) {
      assertThat(model.resolve(f)).isRegularFile();
    }
    Run again = peft("init-model", "--preset", "tiny", "--output", model.toString());
    assertThat(again.exitCode()).isEqualTo(1);
    assertThat(again.err().strip()).isEqualTo("peft: error: " + model + " exists and is not empty (use --force to write into it)");
  }

  @Test
  void shardsLargeCheckpointsAndStoresBf16() throws Exception {
    Path sharded = dir.resolve("sharded");
    Run r = peft("init-model", "--preset", "tiny", "--output", sharded.toString(), "--dtype", "bf16", "--shard-size", "200KB");
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(sharded.resolve("model.safetensors.index.json")).isRegularFile();
    assertThat(sharded.resolve("model-00001-of-00002.safetensors")).isRegularFile();
    JsonNode summary = new ObjectMapper().readTree(peft("inspect", "--json", sharded.toString()).out());
    assertThat(summary.at("/model/dtypes/BF16").asInt()).isEqualTo(21);
    assertThat(summary.at("/model/parameters").asLong()).isEqualTo(158_016);
  }

  @Test
  void evalPrintsLossTokensAndPerplexityAsItsLastLine() throws Exception {
    Path data = dir.resolve("eval.jsonl");
    Files.writeString(data, """
        {"text": "The river ran past the old mill."}
        {"text": "Bees make honey."}
        """);
    Run r = peft("eval", "--model", model.toString(), "--data", data.toString(), "--batch-size", "1");
    assertThat(r.exitCode()).as(r.err()).isZero();
    JsonNode result = new ObjectMapper().readTree(r.lastLine());
    assertThat(result.fieldNames()).toIterable().containsExactly("loss", "tokens", "perplexity");
    // A random model of a 512-token vocabulary predicts close to uniformly: loss near ln 512 = 6.24.
    assertThat(result.get("loss").asDouble()).isBetween(5.5, 7.0);
    assertThat(result.get("perplexity").asDouble()).isCloseTo(Math.exp(result.get("loss").asDouble()), org.assertj.core.data.Offset.offset(1e-6));
    Run batched = peft("eval", "--model", model.toString(), "--data", data.toString(), "--batch-size", "2");
    JsonNode same = new ObjectMapper().readTree(batched.lastLine());
    assertThat(same.get("tokens").asLong()).isEqualTo(result.get("tokens").asLong());
    assertThat(same.get("loss").asDouble()).isCloseTo(result.get("loss").asDouble(), org.assertj.core.data.Offset.offset(1e-5));
  }

  @Test
  void generateIsDeterministicForASeed() {
    Run a = peft("generate", "--model", model.toString(), "--prompt", "hello", "--max-new-tokens", "8", "--temperature", "0.8", "--seed", "3");
    Run b = peft("generate", "--model", model.toString(), "--prompt", "hello", "--max-new-tokens", "8", "--temperature", "0.8", "--seed", "3");
    assertThat(a.exitCode()).as(a.err()).isZero();
    assertThat(a.out()).isEqualTo(b.out());
    assertThat(a.err()).contains("new tokens");
    Run chat = peft("generate", "--model", model.toString(), "--prompt", "hi", "--chat", "--max-new-tokens", "4");
    assertThat(chat.exitCode()).as(chat.err()).isZero();
  }

  @Test
  void inspectDescribesTheModel() {
    Run r = peft("inspect", model.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out()).contains("LlamaForCausalLM").contains("158,016").contains("2 x (hidden 64").contains("Adapters         none");
  }

  @Test
  void errorsAreOneLineWithoutStackTraces() throws Exception {
    Run missingOption = peft("eval", "--model", model.toString());
    assertThat(missingOption.exitCode()).isEqualTo(2);
    assertThat(missingOption.err().strip()).isEqualTo("peft eval: Missing required option: '--data=FILE' (see peft eval --help)");
    // every command answers --help, as the line above promises, nested ones by their whole name
    PeftCliTest.Run help = peft("eval", "--help");
    assertThat(help.exitCode()).isZero();
    assertThat(help.out()).startsWith("Usage: peft eval");
    PeftCliTest.Run nested = peft("merges", "create", "--frobnicate");
    assertThat(nested.exitCode()).isEqualTo(2);
    assertThat(nested.err().strip()).isEqualTo("peft merges create: Unknown option: '--frobnicate' (see peft merges create --help)");
    assertThat(peft("merges", "create", "--help").out()).contains("--calibration=FILE-ID");

    Run noModel = peft("eval", "--model", dir.resolve("nope").toString(), "--data", "x.jsonl");
    assertThat(noModel.exitCode()).isEqualTo(1);
    assertThat(noModel.err().strip()).isEqualTo("peft: error: " + dir.resolve("nope") + ": no such model directory");

    Path bad = dir.resolve("bad.jsonl");
    Files.writeString(bad, "{\"text\": \"fine\"}\n{\"text\": 42}\n");
    Run badData = peft("eval", "--model", model.toString(), "--data", bad.toString());
    assertThat(badData.exitCode()).isEqualTo(1);
    assertThat(badData.err().strip()).isEqualTo("peft: error: " + bad + ":2: field 'text': must be a string, got a number");
    assertThat(badData.err()).doesNotContain("\tat ");

    Run verbose = peft("eval", "--model", model.toString(), "--data", bad.toString(), "--verbose");
    assertThat(verbose.err()).contains("\tat ");

    Run unknownPreset = peft("init-model", "--preset", "huge", "--output", dir.resolve("h").toString());
    assertThat(unknownPreset.exitCode()).isEqualTo(1);
    assertThat(unknownPreset.err().strip()).isEqualTo("peft: error: unknown preset 'huge'; presets: tiny, small, smollm2-135m-shape, tinyllama-1.1b-shape");

    Run badTemperature = peft("generate", "--model", model.toString(), "--prompt", "x", "--temperature", "-1");
    assertThat(badTemperature.exitCode()).isEqualTo(1);
    assertThat(badTemperature.err().strip()).isEqualTo("peft: error: temperature must be >= 0, got -1.0");
  }
}

package io.peftplatform.stack;

import static org.assertj.core.api.Assertions.assertThat;

import io.peftplatform.cli.PeftCli;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The flow a user types: `peft models|datasets|jobs|adapters …` against the running platform. */
class CliFlowTest {
  record Run(int exitCode, String out, String err) {}

  static Run peft(String... args) {
    return peftWith(KEY, args);
  }

  static Run peftWith(String key, String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--url", RunningStack.get().url(), "--api-key", key));
    PrintStream oldOut = System.out;
    PrintStream oldErr = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      int code = PeftCli.execute(all.toArray(String[]::new));
      return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(oldOut);
      System.setErr(oldErr);
    }
  }

  static final String KEY = RunningStack.tenantKey("e2e-cli");

  private static String firstWord(Run r) {
    assertThat(r.exitCode()).as(r.err()).isZero();
    return r.out().strip().lines().reduce((a, b) -> b).orElseThrow().split("\\s+")[0];
  }

  @Test
  void uploadTrainFollowDownloadAndTry() throws Exception {
    String model = firstWord(peft("models", "upload", RunningStack.tinyModel().toString(), "--name", "tiny"));
    assertThat(model).startsWith("model-");
    Path data = RunningStack.scratch("cli").resolve("opposites.jsonl");
    Files.writeString(data, DemoContent.dataset());
    Run uploaded = peft("datasets", "upload", data.toString());
    assertThat(uploaded.out()).contains("prompt_completion").contains("50 rows");
    String dataset = firstWord(uploaded);

    Run job = peft("jobs", "create", "--model", model, "--training-file", dataset, "--adapter", "nola", "--num-bases", "32",
        "--max-steps", "6", "--learning-rate", "1e-2", "--follow");
    assertThat(job.exitCode()).as(job.out() + job.err()).isZero();
    assertThat(job.out()).contains("Files validated; job queued").contains("Step 6/6: training loss=").contains("  succeeded  adapter adapter-");
    String jobId = job.out().lines().findFirst().orElseThrow().split("\\s+")[0];
    String adapter = "adapter-" + jobId.substring("ftjob-".length());

    Run list = peft("jobs", "list");
    assertThat(list.out().lines().findFirst().orElseThrow()).startsWith("ID").contains("STATUS").contains("FINE_TUNED_MODEL");
    assertThat(list.out()).contains(jobId).contains("succeeded").contains("nola");
    assertThat(peft("jobs", "events", jobId).out()).contains("Job succeeded: adapter " + adapter);

    Path dir = RunningStack.scratch("cli-adapter");
    Run download = peft("adapters", "download", adapter, "--output", dir.toString());
    assertThat(download.exitCode()).as(download.err()).isZero();
    assertThat(dir.resolve("adapter_config.json")).isRegularFile();
    assertThat(dir.resolve("adapter_model.safetensors")).isRegularFile();

    Run tried = peft("adapters", "try", adapter, "--prompt", "The opposite of hot is", "--max-tokens", "4");
    assertThat(tried.exitCode()).as(tried.err()).isZero();

    Run merged = peft("merges", "create", "--model", model, "--adapter", adapter + ":0.5", "--name", "tiny + half nola", "--wait");
    assertThat(merged.exitCode()).as(merged.out() + merged.err()).isZero();
    assertThat(merged.out()).startsWith("merge-").contains("  succeeded  model model-");
    assertThat(peft("merges", "list").out()).contains("task_arithmetic").contains("succeeded");
    Run badWeight = peft("merges", "create", "--model", model, "--adapter", adapter + ":heavy");
    assertThat(badWeight.err().strip()).isEqualTo("peft: error: --adapter " + adapter + ":heavy: the weight after ':' must be a number");

    // AdaMerging of the adapter on the job's own texts, followed step by step to the end
    Run ada = peft("merges", "create", "--method", "ada_merging", "--model", model, "--adapter", adapter, "--calibration", dataset,
        "--steps", "5", "--wait");
    assertThat(ada.exitCode()).as(ada.out() + ada.err()).isZero();
    assertThat(ada.out()).startsWith("merge-").contains("  succeeded  model model-");
    assertThat(ada.err()).contains("step 5/5 | loss");
    Run badSteps = peft("merges", "create", "--method", "ada_merging", "--model", model, "--adapter", adapter, "--calibration", dataset,
        "--steps", "0");
    assertThat(badSteps.err().strip()).isEqualTo("peft: error: HTTP 400: must be in [1, 10000], got 0 (field: hyperparameters.steps)");
  }

  /** An admin lists a tenant's keys and revokes one; the revoked key is refused from then on. */
  @Test
  void keysAreListedAndRevoked() {
    String admin = RunningStack.get().adminKey();
    String key = peftWith(admin, "keys", "create", "--tenant", "e2e-cli-keys").out().strip();
    assertThat(peftWith(key, "models", "list").exitCode()).isZero();
    Run list = peftWith(admin, "keys", "list", "--tenant", "e2e-cli-keys");
    assertThat(list.exitCode()).as(list.err()).isZero();
    assertThat(list.out()).contains("e2e-cli-keys").doesNotContain(key);
    String id = list.out().lines().skip(1).findFirst().orElseThrow().split("\\s+")[0];
    assertThat(id).startsWith("key-");
    assertThat(peftWith(admin, "keys", "revoke", id).out().strip()).isEqualTo("revoked " + id);
    Run refused = peftWith(key, "models", "list");
    assertThat(refused.exitCode()).isEqualTo(1);
    assertThat(refused.err().strip()).startsWith("peft: error: HTTP 401: ");
    assertThat(peftWith(key, "keys", "list").exitCode()).isEqualTo(1);
  }

  @Test
  void aRefusedRequestIsOneLineAndExitCodeOne() {
    Run r = peft("jobs", "create", "--model", "model-x", "--training-file", "file-y", "--adapter", "qlora");
    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err().strip()).isEqualTo("peft: error: HTTP 400: adapter.type: must be one of lora, dora, nola, kronecker (field: adapter.type)");
    Run missing = peft("jobs", "get", "ftjob-000000000000000000000000");
    assertThat(missing.exitCode()).isEqualTo(1);
    assertThat(missing.err().strip()).startsWith("peft: error: HTTP 404: ").doesNotContain("Exception");
  }
}

package io.peftplatform.stack;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftplatform.adapters.AdaptedModel;
import io.peftplatform.client.PeftClient;
import io.peftplatform.llama.Evaluator;
import io.peftplatform.llama.Examples;
import io.peftplatform.llama.LlamaModel;
import io.peftplatform.llama.ModelDirectory;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.text.Tokenizer;
import io.peftplatform.text.dataset.TokenizedExample;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The whole flow through the public API, for each method: register a generated model, upload a dataset,
 * create a job, follow its events to the end, download the adapter, and check with the core library that
 * it lowers the loss on the training data.
 */
class FineTuningFlowTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static PeftClient client;
  static String modelId;
  static String datasetId;

  /** The demo data set, as a file. */
  static synchronized Path opposites() {
    Path file = RunningStack.scratch("flow").resolve("opposites.jsonl");
    try {
      if (!Files.exists(file)) {
        Files.writeString(file, DemoContent.dataset());
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return file;
  }

  @BeforeAll
  static void registerModelAndData() throws Exception {
    client = RunningStack.tenant("e2e-flow");
    JsonNode model = client.uploadModel(RunningStack.tinyModel(), "tiny");
    modelId = model.path("id").asText();
    assertThat(RunningStack.ready(client, modelId).path("status").asText()).isEqualTo("ready");
    JsonNode dataset = client.uploadDataset(opposites(), "opposites.jsonl");
    datasetId = dataset.path("id").asText();
    assertThat(dataset.path("rows").asInt()).isEqualTo(50);
    assertThat(dataset.path("format").asText()).isEqualTo("prompt_completion");
  }

  @AfterAll
  static void close() {
    client.close();
  }

  @ParameterizedTest
  @ValueSource(strings = {"lora", "dora", "nola", "kronecker"})
  void fineTunesAnAdapterThatLowersTheLoss(String method) throws Exception {
    ObjectNode request = JSON.createObjectNode().put("model", modelId).put("training_file", datasetId).put("seed", 5)
        .put("suffix", "e2e-" + method);
    request.putObject("adapter").put("type", method).put("rank", 8);
    request.putObject("hyperparameters").put("n_epochs", 6).put("learning_rate", 1e-2).put("batch_size", 10)
        .put("checkpoint_every", 10);
    JsonNode created = client.createJob(request);
    String jobId = created.path("id").asText();
    assertThat(created.path("status").asText()).isIn("validating_files", "queued");

    List<String> messages = new ArrayList<>();
    JsonNode job = client.followJob(jobId, e -> messages.add(e.path("message").asText()), RunningStack.JOB_TIMEOUT);

    assertThat(job.path("status").asText()).as(messages.toString()).isEqualTo("succeeded");
    assertThat(messages.get(0)).startsWith("Created fine-tuning job " + jobId);
    assertThat(messages).anyMatch(m -> m.startsWith("Started on training-"))
        .anyMatch(m -> m.startsWith("Step 1/30: training loss="))
        .anyMatch(m -> m.equals("Checkpoint saved at step 10"));
    assertThat(messages.get(messages.size() - 1)).startsWith("Job succeeded: adapter " + job.path("fine_tuned_model").asText());
    assertThat(client.jobCheckpoints(jobId).path("data")).extracting(c -> c.path("step_number").asInt()).containsExactly(30, 20, 10);

    String adapterId = job.path("fine_tuned_model").asText();
    JsonNode adapter = client.getAdapter(adapterId);
    assertThat(adapter.path("job_id").asText()).isEqualTo(jobId);
    assertThat(adapter.path("model_id").asText()).isEqualTo(modelId);
    assertThat(adapter.path("method").asText()).isEqualTo(method);
    assertThat(adapter.path("lineage").path("seed").asLong()).isEqualTo(5);
    assertThat(adapter.path("lineage").toString()).contains(client.getDataset(datasetId).path("sha256").asText());
    assertThat(adapter.at("/lineage/base_model/name").asText()).isEqualTo(modelId);
    assertThat(adapter.at("/lineage/datasets/0/name").asText()).isEqualTo(datasetId);

    Path downloaded = RunningStack.scratch("adapter-" + method);
    client.downloadAdapter(adapterId, downloaded);
    assertThat(downloaded.resolve("adapter_config.json")).isRegularFile();
    double base = loss(RunningStack.tinyModel(), null);
    double tuned = loss(RunningStack.tinyModel(), downloaded);
    assertThat(tuned).as("%s: loss with the adapter %.4f, without %.4f", method, tuned, base).isLessThan(base - 0.1);

    // As PEFT, vLLM and LoRAX load it: the same adapter (NOLA as the plain LoRA it equals), the same loss.
    Path peft = RunningStack.scratch("adapter-" + method + "-peft");
    client.downloadAdapter(adapterId, peft, "peft");
    String peftType = JSON.readTree(peft.resolve("adapter_config.json").toFile()).path("peft_type").asText();
    assertThat(peftType).isEqualTo(method.equals("kronecker") ? "LOKR" : "LORA");
    assertThat(loss(RunningStack.tinyModel(), peft)).as("%s exported to PEFT", method).isCloseTo(tuned, org.assertj.core.data.Offset.offset(1e-4));
  }

  /** Mean loss on the opposites data of the model with the adapter (null: the model alone). */
  static double loss(Path modelDir, Path adapterDir) {
    LlamaConfig config = ModelDirectory.config(modelDir);
    try (Tokenizer tokenizer = ModelDirectory.tokenizer(modelDir)) {
      List<TokenizedExample> examples = Examples.load(opposites(), tokenizer, config, 64, false);
      LlamaModel model = AdaptedModel.load(modelDir, adapterDir, DataType.FLOAT);
      return Evaluator.evaluate(model, examples, 16, Examples.padTokenId(tokenizer, config)).loss();
    }
  }
}

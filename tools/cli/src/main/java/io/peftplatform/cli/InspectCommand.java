package io.peftplatform.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftplatform.adapters.Adapter;
import io.peftplatform.adapters.AdapterFiles;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.ModelDirectory;
import io.peftplatform.llama.checkpoint.DirectorySummary;
import org.nd4j.linalg.api.buffer.DataType;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "inspect", description = "Describe a model or adapter directory: architecture, parameters, dtypes, files, adapters.")
final class InspectCommand implements Callable<Integer> {
  @Parameters(paramLabel = "DIR", description = "A model or adapter directory.")
  Path dir;

  @Option(names = "--json", description = "Print the description as JSON.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    ObjectNode s = DirectorySummary.inspect(dir);
    if (json) {
      System.out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(s));
      return 0;
    }
    System.out.println("Directory        " + s.get("directory").asText());
    JsonNode m = s.get("model");
    if (m != null) {
      System.out.printf("Architecture     %s%n", m.get("architecture").asText());
      System.out.printf("Parameters       %,d%s%n", m.get("parameters").asLong(), m.get("tied_embeddings").asBoolean() ? " (embeddings tied to the LM head)" : "");
      System.out.printf("Layers           %d x (hidden %d, intermediate %d, %d heads / %d KV heads, head_dim %d)%n",
          m.get("layers").asInt(), m.get("hidden_size").asInt(), m.get("intermediate_size").asInt(),
          m.get("attention_heads").asInt(), m.get("kv_heads").asInt(), m.get("head_dim").asInt());
      System.out.printf("Context          %d positions, rope_theta %s, rope_scaling %s%s%n",
          m.get("max_position_embeddings").asInt(), m.get("rope_theta").asText(), m.get("rope_scaling").asText(),
          m.has("sliding_window") ? ", sliding window " + m.get("sliding_window").asInt() : "");
      System.out.printf("Vocabulary       %d (tokenizer: %d tokens%s)%n", m.get("vocab_size").asInt(),
          m.get("tokenizer_tokens").asInt(), m.path("chat_template").asBoolean() ? ", chat template" : ", no chat template");
      System.out.printf("Weights          %s, %d tensors, %s in %s%n", m.get("dtypes").toString().replace("\"", ""),
          m.get("tensors").asInt(), Sizes.human(m.get("weight_bytes").asLong()), Path.of(m.get("weights").asText()).getFileName());
    }
    JsonNode adapters = s.get("adapters");
    if (adapters.isEmpty()) {
      System.out.println("Adapters         none");
    }
    for (JsonNode a : adapters) {
      System.out.printf("Adapter          %s: %s r=%s alpha=%s targets %s%s%n", a.get("path").asText(), a.path("peft_type").asText(),
          a.path("r").asText("-"), a.path("lora_alpha").asText("-"), a.path("target_modules"),
          a.has("parameters") ? String.format(", %,d parameters", a.get("parameters").asLong()) : "");
      comparison(dir.resolve(a.get("path").asText()), m != null ? dir : null).ifPresent(c -> System.out.println("                 " + c));
    }
    for (JsonNode f : s.get("files")) {
      System.out.printf("  %-40s %12s%n", f.get("name").asText(), Sizes.human(f.get("bytes").asLong()));
    }
    return 0;
  }

  /**
   * "N trainable parameters; LoRA r=8 on the same modules: M (k× more)", when the base model can be
   * found: the directory itself, or the adapter's base_model_name_or_path.
   */
  static java.util.Optional<String> comparison(Path adapterDir, Path modelDir) {
    try {
      Path base = modelDir != null ? modelDir : ExportCommand.baseOf(adapterDir);
      LlamaConfig config = ModelDirectory.config(base);
      Adapter adapter = AdapterFiles.read(adapterDir, config, DataType.FLOAT);
      long lora = adapter.loraParameterCount(8);
      return java.util.Optional.of(String.format("%s on %d modules: %,d trainable parameters; LoRA r=8 on the same modules: %,d (%.1fx)",
          adapter.spec().method().cliName(), adapter.plans().size(), adapter.parameterCount(), lora, (double) lora / adapter.parameterCount()));
    } catch (Exception e) {
      return java.util.Optional.empty();
    }
  }
}

package io.peftplatform.llama.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.config.CheckpointLayout;
import io.peftplatform.llama.config.ModelException;
import io.peftplatform.safetensors.Checkpoints;
import io.peftplatform.safetensors.SafetensorsException;
import io.peftplatform.safetensors.TensorInfo;
import io.peftplatform.safetensors.TensorSource;
import io.peftplatform.text.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * What a directory holds, for {@code peft inspect}: a model (architecture, sizes, storage types,
 * tokenizer) and any PEFT adapters in it or one level below. Reads headers and JSON only, no weights.
 */
public final class DirectorySummary {
  private static final ObjectMapper JSON = new ObjectMapper();

  private DirectorySummary() {}

  /** @return a JSON description; fails when the directory holds neither a model nor an adapter */
  public static ObjectNode inspect(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new ModelException(dir + ": no such directory");
    }
    ObjectNode out = JSON.createObjectNode();
    out.put("directory", dir.toString());
    boolean model = Files.isRegularFile(dir.resolve("config.json"));
    if (model) {
      out.set("model", model(dir));
    }
    ArrayNode adapters = out.putArray("adapters");
    for (Path candidate : adapterDirs(dir)) {
      adapters.add(adapter(dir, candidate));
    }
    if (!model && adapters.isEmpty()) {
      throw new ModelException(dir + ": holds neither a model (config.json) nor an adapter (adapter_config.json)");
    }
    ArrayNode files = out.putArray("files");
    try (Stream<Path> list = Files.list(dir)) {
      list.filter(Files::isRegularFile).sorted().forEach(f -> {
        ObjectNode e = files.addObject();
        e.put("name", f.getFileName().toString());
        try {
          e.put("bytes", Files.size(f));
        } catch (IOException ex) {
          e.put("bytes", -1);
        }
      });
    } catch (IOException e) {
      throw new ModelException(dir + ": cannot list: " + e.getMessage());
    }
    return out;
  }

  private static ObjectNode model(Path dir) {
    LlamaConfig c = LlamaConfig.read(dir);
    ObjectNode m = JSON.createObjectNode();
    m.put("architecture", c.architecture());
    m.put("parameters", c.parameterCount());
    m.put("layers", c.numLayers());
    m.put("hidden_size", c.hiddenSize());
    m.put("intermediate_size", c.intermediateSize());
    m.put("attention_heads", c.numHeads());
    m.put("kv_heads", c.numKvHeads());
    m.put("head_dim", c.headDim());
    m.put("vocab_size", c.vocabSize());
    m.put("max_position_embeddings", c.maxPositionEmbeddings());
    m.put("rope_theta", c.ropeTheta());
    m.put("rope_scaling", c.ropeScaling() == null ? "none" : c.ropeScaling().type());
    m.put("tied_embeddings", c.tieWordEmbeddings());
    if (c.slidingWindow() > 0) {
      m.put("sliding_window", c.slidingWindow());
    }
    try (TensorSource tensors = Checkpoints.open(dir)) {
      CheckpointLayout.validate(c, tensors);
      Map<String, Integer> dtypes = new TreeMap<>();
      long bytes = 0;
      for (String name : tensors.names()) {
        TensorInfo info = tensors.info(name);
        dtypes.merge(info.dtype().name(), 1, Integer::sum);
        bytes += info.byteLength();
      }
      ObjectNode d = m.putObject("dtypes");
      dtypes.forEach(d::put);
      m.put("tensors", tensors.names().size());
      m.put("weight_bytes", bytes);
      m.put("weights", tensors.location());
    } catch (SafetensorsException e) {
      throw new ModelException(e.getMessage(), e);
    }
    if (Files.isRegularFile(dir.resolve(Tokenizer.TOKENIZER_JSON))) {
      try (Tokenizer t = Tokenizer.load(dir)) {
        m.put("tokenizer_tokens", t.vocabSize());
        m.put("chat_template", t.chatTemplate().isPresent());
        t.eosToken().ifPresent(e -> m.put("eos_token", e));
      }
    } else {
      m.put("tokenizer_tokens", 0);
    }
    return m;
  }

  private static List<Path> adapterDirs(Path dir) {
    List<Path> out = new ArrayList<>();
    if (Files.isRegularFile(dir.resolve("adapter_config.json"))) {
      out.add(dir);
    }
    try (Stream<Path> list = Files.list(dir)) {
      list.filter(p -> Files.isRegularFile(p.resolve("adapter_config.json"))).sorted().forEach(out::add);
    } catch (IOException e) {
      throw new ModelException(dir + ": cannot list: " + e.getMessage());
    }
    return out;
  }

  private static ObjectNode adapter(Path root, Path dir) {
    ObjectNode a = JSON.createObjectNode();
    a.put("path", root.relativize(dir).toString().isEmpty() ? "." : root.relativize(dir).toString());
    try {
      JsonNode c = JSON.readTree(dir.resolve("adapter_config.json").toFile());
      a.put("peft_type", c.path("peft_type").asText("?"));
      if (c.has("r")) {
        a.put("r", c.get("r").asInt());
      }
      if (c.has("lora_alpha")) {
        a.put("lora_alpha", c.get("lora_alpha").asDouble());
      }
      a.set("target_modules", c.path("target_modules"));
      a.put("base_model", c.path("base_model_name_or_path").asText(""));
    } catch (IOException e) {
      a.put("error", "adapter_config.json is not valid JSON");
      return a;
    }
    Path weights = dir.resolve("adapter_model.safetensors");
    if (Files.isRegularFile(weights)) {
      try (var f = io.peftplatform.safetensors.SafetensorsFile.open(weights)) {
        long params = 0;
        for (String n : f.names()) {
          params += f.info(n).elementCount();
        }
        a.put("parameters", params);
        a.put("tensors", f.names().size());
      } catch (SafetensorsException e) {
        a.put("error", e.getMessage());
      }
    }
    return a;
  }
}

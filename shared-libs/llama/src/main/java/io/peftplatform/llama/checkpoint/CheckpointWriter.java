package io.peftplatform.llama.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.LlamaWeights;
import io.peftplatform.safetensors.DType;
import io.peftplatform.safetensors.SafetensorsWriter;
import io.peftplatform.text.bpe.GeneratedTokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.nd4j.linalg.api.buffer.DataType;

/** Writes a model directory in Hugging Face layout: config, generation config, weights, tokenizer. */
public final class CheckpointWriter {
  private static final ObjectMapper JSON = new ObjectMapper();

  private CheckpointWriter() {}

  /**
   * Writes a random-weight checkpoint of a preset's shape with the generated tokenizer.
   *
   * @param maxShardBytes split the weights into shards of at most this size; 0 for one file
   */
  public static LlamaConfig writeRandom(Path dir, LlamaConfig preset, long seed, DType storage, long maxShardBytes) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + dir + ": " + e.getMessage(), e);
    }
    GeneratedTokenizer.write(dir, preset.vocabSize(), preset.maxPositionEmbeddings());
    LlamaConfig config = withDtype(preset, storage);
    LlamaWeights weights = LlamaWeights.random(config, seed, DataType.FLOAT);
    writeConfig(dir, config);
    SafetensorsWriter writer = new SafetensorsWriter().metadata("format", "pt");
    weights.addTo(writer, config, storage);
    if (maxShardBytes > 0 && writer.totalBytes() > maxShardBytes) {
      writer.writeSharded(dir, maxShardBytes);
    } else {
      writer.write(dir.resolve("model.safetensors"));
    }
    return config;
  }

  /** Writes config.json and generation_config.json. */
  public static void writeConfig(Path dir, LlamaConfig config) {
    ObjectNode generation = JSON.createObjectNode();
    if (config.bosTokenId() != null) {
      generation.put("bos_token_id", config.bosTokenId());
    }
    // Generated checkpoints also stop at the end of a chat turn.
    var eos = generation.putArray("eos_token_id");
    config.eosTokenIds().forEach(eos::add);
    if (!config.eosTokenIds().contains(GeneratedTokenizer.IM_END_ID) && config.vocabSize() > GeneratedTokenizer.IM_END_ID) {
      eos.add(GeneratedTokenizer.IM_END_ID);
    }
    generation.put("transformers_version", "4.46.0");
    try {
      Files.writeString(dir.resolve("config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(config.toJson()));
      Files.writeString(dir.resolve("generation_config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(generation));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static LlamaConfig withDtype(LlamaConfig c, DType storage) {
    String torchDtype = switch (storage) {
      case BF16 -> "bfloat16";
      case F16 -> "float16";
      case F64 -> "float64";
      default -> "float32";
    };
    return new LlamaConfig(c.architecture(), c.vocabSize(), c.hiddenSize(), c.intermediateSize(), c.numLayers(),
        c.numHeads(), c.numKvHeads(), c.headDim(), c.rmsNormEps(), c.ropeTheta(), c.ropeScaling(),
        c.maxPositionEmbeddings(), c.tieWordEmbeddings(), c.attentionQkvBias(), c.attentionOutputBias(),
        c.mlpBias(), c.slidingWindow(), c.bosTokenId(), c.eosTokenIds(), torchDtype);
  }
}

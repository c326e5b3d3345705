package io.peftplatform.llama;

import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.config.ModelException;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.peftplatform.llama.checkpoint.CheckpointWriter;
import io.peftplatform.llama.checkpoint.Presets;
import io.peftplatform.safetensors.DType;
import io.peftplatform.safetensors.SafetensorsWriter;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;

class ModelDirectoryTest {
  @TempDir Path dir;

  @Test
  void aWrittenCheckpointLoadsBackToTheSameWeights() {
    LlamaConfig written = CheckpointWriter.writeRandom(dir, Presets.get("tiny"), 5, DType.F32, 0);
    LlamaModel loaded = ModelDirectory.loadModel(dir, DataType.FLOAT);
    LlamaWeights expected = LlamaWeights.random(written, 5, DataType.FLOAT);
    assertThat(loaded.weights().layers[1].downProj).isEqualTo(expected.layers[1].downProj);
    assertThat(loaded.weights().lmHead).isEqualTo(expected.lmHead);
    assertThat(loaded.config().eosTokenIds()).containsExactly(0, 2);
  }

  @Test
  void missingOrMisshapenTensorsAreNamed() throws Exception {
    LlamaConfig c = CheckpointWriter.writeRandom(dir, Presets.get("tiny"), 5, DType.F32, 0);
    LlamaWeights w = LlamaWeights.random(c, 5, DataType.FLOAT);
    SafetensorsWriter partial = new SafetensorsWriter();
    w.byName(c).forEach((name, a) -> {
      if (name.equals("model.layers.1.mlp.up_proj.weight")) {
        return;
      }
      partial.add(name, DType.F32, a.shape(), a.data().asNioFloat());
    });
    partial.write(dir.resolve("model.safetensors"));
    assertThatThrownBy(() -> ModelDirectory.loadModel(dir, DataType.FLOAT))
        .isInstanceOf(ModelException.class)
        .hasMessageContaining("missing tensor model.layers.1.mlp.up_proj.weight");

    SafetensorsWriter wrong = new SafetensorsWriter();
    w.byName(c).forEach((name, a) -> wrong.add(name, DType.F32,
        name.equals("model.norm.weight") ? new long[] {1, a.length()} : a.shape(), a.data().asNioFloat()));
    wrong.write(dir.resolve("model.safetensors"));
    assertThatThrownBy(() -> ModelDirectory.loadModel(dir, DataType.FLOAT))
        .hasMessageContaining("tensor model.norm.weight has shape [1, 64] but config.json implies [64]");
  }

  @Test
  void aTruncatedCheckpointIsRejectedCleanly() throws Exception {
    CheckpointWriter.writeRandom(dir, Presets.get("tiny"), 5, DType.BF16, 0);
    try (RandomAccessFile f = new RandomAccessFile(dir.resolve("model.safetensors").toFile(), "rw")) {
      f.setLength(f.length() / 2);
    }
    assertThatThrownBy(() -> ModelDirectory.loadModel(dir, DataType.FLOAT))
        .isInstanceOf(ModelException.class)
        .hasMessageContaining("not a valid safetensors file")
        .hasMessageContaining("truncated");
  }

  @Test
  void notAModelDirectory() throws Exception {
    assertThatThrownBy(() -> ModelDirectory.loadModel(dir.resolve("absent"), DataType.FLOAT))
        .hasMessageContaining("no such model directory");
    Files.writeString(dir.resolve("readme.txt"), "hi");
    assertThatThrownBy(() -> ModelDirectory.loadModel(dir, DataType.FLOAT))
        .hasMessageContaining("no config.json");
  }

  @Test
  void paddingDoesNotChangeTheLossOfTheRealTokens() {
    LlamaConfig c = Presets.get("tiny");
    LlamaModel m = new LlamaModel(c, LlamaWeights.random(c, 1, DataType.FLOAT));
    var a = new io.peftplatform.text.dataset.TokenizedExample(new int[] {5, 9, 11, 300, 4}, new int[] {5, 9, 11, 300, 4});
    var b = new io.peftplatform.text.dataset.TokenizedExample(new int[] {7, 8}, new int[] {7, 8});
    var arena = new io.peftplatform.llama.nn.Arena(DataType.FLOAT);
    var together = m.loss(io.peftplatform.text.dataset.PaddedBatch.of(java.util.List.of(a, b), 0), arena);
    var alone = m.loss(io.peftplatform.text.dataset.PaddedBatch.of(java.util.List.of(a), 0), arena)
        .plus(m.loss(io.peftplatform.text.dataset.PaddedBatch.of(java.util.List.of(b), 0), arena));
    assertThat(together.tokens()).isEqualTo(5);
    assertThat(together.loss()).isCloseTo(alone.loss(), org.assertj.core.data.Offset.offset(1e-4));
  }
}

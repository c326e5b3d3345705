package io.peftplatform.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardedTensorsTest {
  @TempDir Path dir;

  private SafetensorsWriter threeTensors() {
    return new SafetensorsWriter()
        .metadata("format", "pt")
        .add("a", DType.F32, new long[] {4}, new float[] {1, 2, 3, 4})
        .add("b", DType.BF16, new long[] {2, 2}, new float[] {5, 6, 7, 8})
        .add("c", DType.F32, new long[] {3}, new float[] {9, 10, 11});
  }

  @Test
  void writesShardsWithAnIndexAndReadsThemBack() throws IOException {
    threeTensors().writeSharded(dir, 24);
    assertThat(dir.resolve("model-00001-of-00002.safetensors")).exists();
    assertThat(dir.resolve("model-00002-of-00002.safetensors")).exists();
    assertThat(Files.readString(dir.resolve(Checkpoints.SHARD_INDEX))).contains("\"total_size\" : 36");
    try (TensorSource source = Checkpoints.open(dir)) {
      assertThat(source).isInstanceOf(ShardedTensors.class);
      assertThat(source.names()).containsExactly("a", "b", "c");
      assertThat(source.readFloats("a")).containsExactly(1, 2, 3, 4);
      assertThat(source.readFloats("b")).containsExactly(5, 6, 7, 8);
      assertThat(source.readFloats("c")).containsExactly(9, 10, 11);
      assertThat(((ShardedTensors) source).shardPaths()).hasSize(2);
    }
  }

  @Test
  void prefersTheSingleFileAndFallsBackToALoneSafetensors() {
    threeTensors().write(dir.resolve("weights.safetensors"));
    try (TensorSource source = Checkpoints.open(dir)) {
      assertThat(source.location()).endsWith("weights.safetensors");
    }
    threeTensors().write(dir.resolve(Checkpoints.SINGLE_FILE));
    try (TensorSource source = Checkpoints.open(dir)) {
      assertThat(source.location()).endsWith(Checkpoints.SINGLE_FILE);
    }
  }

  @Test
  void anIndexPointingAtAMissingShardOrTensorFails() throws IOException {
    threeTensors().writeSharded(dir, 24);
    String index = Files.readString(dir.resolve(Checkpoints.SHARD_INDEX));
    Files.writeString(
        dir.resolve(Checkpoints.SHARD_INDEX),
        index.replace("\"c\" : \"model-00002-of-00002.safetensors\"", "\"c\" : \"model-00001-of-00002.safetensors\""));
    assertThatThrownBy(() -> Checkpoints.open(dir))
        .isInstanceOf(SafetensorsException.class)
        .hasMessageContaining("tensor 'c' is not in its shard model-00001-of-00002.safetensors");
    Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
    Files.writeString(dir.resolve(Checkpoints.SHARD_INDEX), index);
    assertThatThrownBy(() -> Checkpoints.open(dir)).hasMessageContaining("no such file");
  }

  @Test
  void aDirectoryWithoutWeightsIsAClearError() {
    assertThatThrownBy(() -> Checkpoints.open(dir))
        .isInstanceOf(SafetensorsException.class)
        .hasMessageContaining("no model.safetensors");
  }
}

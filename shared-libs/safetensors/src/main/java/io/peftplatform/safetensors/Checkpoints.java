package io.peftplatform.safetensors;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Finds the tensors of a Hugging Face model directory: one file, or a sharded set with an index. */
public final class Checkpoints {
  public static final String SINGLE_FILE = "model.safetensors";
  public static final String SHARD_INDEX = "model.safetensors.index.json";

  private Checkpoints() {}

  /**
   * Opens {@code model.safetensors.index.json} when present, else {@code model.safetensors}, else a
   * directory's only {@code *.safetensors} file.
   */
  public static TensorSource open(Path modelDir) {
    if (!Files.isDirectory(modelDir)) {
      throw new SafetensorsException(modelDir + ": not a directory");
    }
    Path index = modelDir.resolve(SHARD_INDEX);
    if (Files.isRegularFile(index)) {
      return ShardedTensors.open(index);
    }
    Path single = modelDir.resolve(SINGLE_FILE);
    if (Files.isRegularFile(single)) {
      return SafetensorsFile.open(single);
    }
    List<Path> candidates;
    try (Stream<Path> files = Files.list(modelDir)) {
      candidates = files.filter(p -> p.getFileName().toString().endsWith(".safetensors")).toList();
    } catch (IOException e) {
      throw new SafetensorsException(modelDir + ": cannot list: " + e.getMessage(), e);
    }
    if (candidates.size() == 1) {
      return SafetensorsFile.open(candidates.get(0));
    }
    throw new SafetensorsException(
        modelDir
            + ": no "
            + SINGLE_FILE
            + " or "
            + SHARD_INDEX
            + (candidates.isEmpty()
                ? " (no .safetensors files at all)"
                : " and " + candidates.size() + " loose .safetensors files without an index"));
  }
}

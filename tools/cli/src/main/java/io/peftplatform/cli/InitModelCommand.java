package io.peftplatform.cli;

import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.checkpoint.CheckpointWriter;
import io.peftplatform.llama.checkpoint.Presets;
import io.peftplatform.safetensors.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "init-model",
    description = "Write a random-weight checkpoint in Hugging Face layout, with a byte-level BPE tokenizer"
        + " trained on a small bundled corpus (for tests, demos and benchmarks).")
final class InitModelCommand implements Callable<Integer> {
  @Option(names = "--preset", required = true, paramLabel = "NAME",
      description = "Model shape: ${COMPLETION-CANDIDATES}.", completionCandidates = PresetNames.class)
  String preset;

  @Option(names = "--output", required = true, paramLabel = "DIR", description = "Directory to create.")
  Path output;

  @Option(names = "--seed", defaultValue = "0", description = "Seed of the random weights (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--dtype", defaultValue = "F32", paramLabel = "TYPE",
      description = "Storage type of the weights: F32, BF16 or F16 (default ${DEFAULT-VALUE}).")
  String dtype;

  @Option(names = "--shard-size", defaultValue = "5GB", paramLabel = "SIZE",
      description = "Split the weights into shards of at most this size, e.g. 200MB (default ${DEFAULT-VALUE}).")
  String shardSize;

  @Option(names = "--force", description = "Write into an existing, non-empty directory.")
  boolean force;

  static final class PresetNames implements Iterable<String> {
    @Override
    public java.util.Iterator<String> iterator() {
      return Presets.names().iterator();
    }
  }

  @Override
  public Integer call() throws IOException {
    LlamaConfig shape = Presets.get(preset);
    DType storage = switch (dtype.toUpperCase()) {
      case "F32", "FLOAT32" -> DType.F32;
      case "BF16", "BFLOAT16" -> DType.BF16;
      case "F16", "FLOAT16" -> DType.F16;
      default -> throw new IllegalArgumentException("--dtype must be F32, BF16 or F16, got " + dtype);
    };
    if (Files.isDirectory(output) && !force) {
      try (Stream<Path> entries = Files.list(output)) {
        if (entries.findAny().isPresent()) {
          throw new IllegalArgumentException(output + " exists and is not empty (use --force to write into it)");
        }
      }
    }
    if (Files.exists(output) && !Files.isDirectory(output)) {
      throw new IllegalArgumentException(output + " exists and is not a directory");
    }
    LlamaConfig written = CheckpointWriter.writeRandom(output, shape, seed, storage, Sizes.parseBytes(shardSize, "--shard-size"));
    System.out.printf("wrote %s: %s, %,d parameters, %s weights, seed %d%n",
        output, preset, written.parameterCount(), storage, seed);
    return 0;
  }
}

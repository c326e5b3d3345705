package io.peftplatform.training;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.peftplatform.adapters.Adapter;
import io.peftplatform.adapters.AdapterFiles;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.safetensors.DType;
import io.peftplatform.safetensors.SafetensorsFile;
import io.peftplatform.safetensors.SafetensorsWriter;
import io.peftplatform.training.spec.AdapterSpec;
import io.peftplatform.training.spec.DataOptions;
import io.peftplatform.training.spec.Objective;
import io.peftplatform.training.spec.RunSpec;
import io.peftplatform.training.spec.TrainingConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A resumable checkpoint directory: the adapter in its usual files, {@code optimizer.safetensors} (the
 * AdamW moments, and the best parameters so far when validating), {@code trainer_state.json} and
 * {@code run.json} (the adapter spec and training configuration). Written to a temporary directory and
 * renamed into place, so a crash or cancellation never leaves a half-written checkpoint.
 */
public final class TrainingCheckpoint {
  public static final String STATE = "trainer_state.json";
  public static final String OPTIMIZER = "optimizer.safetensors";
  public static final String RUN = "run.json";

  static final ObjectMapper JSON = JsonMapper.builder()
      .enable(SerializationFeature.INDENT_OUTPUT)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .build();

  /**
   * What was trained and how: the run's spec, checked on resume, and the base model's name. Checkpoints
   * written before data options and objectives existed read as the defaults (supervised, unpacked).
   */
  public record Run(AdapterSpec adapter, TrainingConfig training, DataOptions data, Objective objective, String baseModel) {
    public Run {
      data = data == null ? DataOptions.defaults() : data;
      objective = objective == null ? Objective.supervised() : objective;
    }

    public Run(RunSpec spec, String baseModel) {
      this(spec.adapter(), spec.training(), spec.data(), spec.objective(), baseModel);
    }

    public RunSpec spec() {
      return new RunSpec(adapter, training, data, objective);
    }
  }

  private TrainingCheckpoint() {}

  public static Path directoryFor(Path output, int step) {
    return output.resolve("checkpoints").resolve(String.format("checkpoint-%06d", step));
  }

  static void save(Path dir, Run run, Adapter adapter, AdamW optimizer, INDArray best, TrainerState state) {
    Path tmp = dir.resolveSibling(dir.getFileName() + ".tmp");
    try {
      deleteRecursively(tmp);
      Files.createDirectories(tmp);
      AdapterFiles.write(adapter, tmp, run.baseModel());
      SafetensorsWriter w = new SafetensorsWriter().metadata("adam_steps", Long.toString(optimizer.steps()));
      add(w, "exp_avg", optimizer.firstMoment());
      add(w, "exp_avg_sq", optimizer.secondMoment());
      if (best != null) {
        add(w, "best_parameters", best);
      }
      w.write(tmp.resolve(OPTIMIZER));
      JSON.writeValue(tmp.resolve(STATE).toFile(), state);
      JSON.writeValue(tmp.resolve(RUN).toFile(), run);
      deleteRecursively(dir);
      Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write checkpoint " + dir + ": " + e.getMessage(), e);
    }
  }

  private static void add(SafetensorsWriter w, String name, INDArray a) {
    DType storage = a.dataType() == DataType.DOUBLE ? DType.F64 : DType.F32;
    if (a.dataType() == DataType.DOUBLE) {
      w.add(name, storage, a.shape(), a.dup().data().asDouble());
    } else {
      w.add(name, storage, a.shape(), a.dup().data().asFloat());
    }
  }

  /** The run a checkpoint belongs to. */
  public static Run readRun(Path dir) {
    requireCheckpoint(dir);
    try {
      return JSON.readValue(dir.resolve(RUN).toFile(), Run.class);
    } catch (IOException e) {
      throw new TrainingException(dir.resolve(RUN) + ": unreadable: " + e.getMessage());
    }
  }

  /** The newest complete checkpoint under an output directory, if any. */
  public static Optional<Path> latest(Path output) {
    Path root = output.resolve("checkpoints");
    if (!Files.isDirectory(root)) {
      return Optional.empty();
    }
    try (Stream<Path> dirs = Files.list(root)) {
      return dirs.filter(d -> d.getFileName().toString().matches("checkpoint-\\d+") && Files.isRegularFile(d.resolve(STATE)))
          .max(Comparator.comparing(d -> d.getFileName().toString()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Loads a checkpoint into an adapter and optimizer of the same run; returns its state. */
  static TrainerState restore(Path dir, LlamaConfig config, Adapter adapter, AdamW optimizer, INDArray[] bestOut) {
    requireCheckpoint(dir);
    Adapter saved = AdapterFiles.read(dir, config, adapter.parameters().dataType());
    if (!saved.parameters().names().equals(adapter.parameters().names())) {
      throw new TrainingException(dir + ": the checkpoint's adapter tensors differ from this run's");
    }
    for (String name : adapter.parameters().names()) {
      adapter.parameters().value(name).assign(saved.parameters().value(name));
    }
    try (SafetensorsFile f = SafetensorsFile.open(dir.resolve(OPTIMIZER))) {
      long steps = Long.parseLong(f.metadata().getOrDefault("adam_steps", "0"));
      optimizer.restore(read(f, "exp_avg", adapter), read(f, "exp_avg_sq", adapter), steps);
      bestOut[0] = f.find("best_parameters").isPresent() ? read(f, "best_parameters", adapter) : null;
      return JSON.readValue(dir.resolve(STATE).toFile(), TrainerState.class);
    } catch (IOException e) {
      throw new TrainingException(dir + ": unreadable checkpoint: " + e.getMessage());
    }
  }

  private static INDArray read(SafetensorsFile f, String name, Adapter adapter) {
    DataType type = adapter.parameters().dataType();
    INDArray out = Nd4j.create(type, adapter.parameters().values().length());
    if (f.info(name).elementCount() != out.length()) {
      throw new TrainingException(f.path() + ": " + name + " has " + f.info(name).elementCount() + " values, the adapter " + out.length());
    }
    if (type == DataType.DOUBLE) {
      f.readDoubles(name, out.data().asNioDouble());
    } else {
      f.readFloats(name, out.data().asNioFloat());
    }
    return out;
  }

  private static void requireCheckpoint(Path dir) {
    if (!Files.isRegularFile(dir.resolve(STATE)) || !Files.isRegularFile(dir.resolve(RUN))) {
      throw new TrainingException(dir + ": not a training checkpoint (no " + STATE + " / " + RUN + ")");
    }
  }

  static void deleteRecursively(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(p)) {
      for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(q);
      }
    }
  }
}

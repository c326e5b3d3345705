package io.peftplatform.training;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * The side file {@code training_provenance.json} written beside a trained adapter: what it was trained
 * from (base model and dataset files with their SHA-256), how (adapter spec, training configuration,
 * seed) and what came of it (steps, losses, the per-step history) — enough to repeat the run.
 */
public final class Provenance {
  public static final String FILE = "training_provenance.json";

  private Provenance() {}

  public static String sha256(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      byte[] buffer = new byte[1 << 16];
      for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
        digest.update(buffer, 0, n);
      }
      return HexFormat.of().formatHex(digest.digest());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** SHA-256 of every regular file directly in a model directory, by name. */
  static ObjectNode directoryDigest(Path dir) {
    ObjectNode files = TrainingCheckpoint.JSON.createObjectNode();
    try (Stream<Path> list = Files.list(dir)) {
      list.filter(Files::isRegularFile).sorted().forEach(f -> files.put(f.getFileName().toString(), sha256(f)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return files;
  }

  /** Where a run's inputs came from: local files, and the names the user knows them by. */
  public record Inputs(Path baseModel, String baseModelName, List<Path> datasets, List<String> datasetNames,
      List<Integer> exampleCounts) {
    /** Inputs named by their paths, as the CLI knows them. */
    public static Inputs local(Path baseModel, List<Path> datasets, List<Integer> exampleCounts) {
      return new Inputs(baseModel, baseModel.toString(), datasets, datasets.stream().map(Path::toString).toList(), exampleCounts);
    }
  }

  /** @param inputs training file first, then the validation file if any */
  public static void write(Path output, Inputs inputs, TrainingCheckpoint.Run run, TrainingResult result,
      List<TrainerState.Entry> history) {
    Path baseModel = inputs.baseModel();
    List<Path> datasets = inputs.datasets();
    ObjectNode root = TrainingCheckpoint.JSON.createObjectNode();
    root.put("written_by", "peft-platform 0.1.0");
    root.put("created_at", Instant.now().toString());
    root.put("seed", run.training().seed());
    root.set("adapter", TrainingCheckpoint.JSON.valueToTree(run.adapter()));
    root.set("training", TrainingCheckpoint.JSON.valueToTree(run.training()));
    root.set("data", TrainingCheckpoint.JSON.valueToTree(run.data()));
    root.set("objective", TrainingCheckpoint.JSON.valueToTree(run.objective()));
    ObjectNode base = root.putObject("base_model");
    base.put("name", inputs.baseModelName());
    base.set("sha256", directoryDigest(baseModel));
    ArrayNode data = root.putArray("datasets");
    for (int i = 0; i < datasets.size(); i++) {
      ObjectNode d = data.addObject();
      d.put("role", i == 0 ? "training" : "validation");
      d.put("name", inputs.datasetNames().get(i));
      d.put("sha256", sha256(datasets.get(i)));
      d.put("examples", inputs.exampleCounts().get(i));
    }
    root.set("result", TrainingCheckpoint.JSON.valueToTree(result));
    root.set("history", TrainingCheckpoint.JSON.valueToTree(history));
    try {
      TrainingCheckpoint.JSON.writeValue(output.resolve(FILE).toFile(), root);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

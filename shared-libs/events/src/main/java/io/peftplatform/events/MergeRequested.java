package io.peftplatform.events;

import io.peftplatform.merge.config.LearnedMergeSpec;
import java.time.Instant;
import java.util.List;

/**
 * Merge adapters of one base model (docs/merging.md): into a new model, or into one LoRA adapter when
 * {@code rank} is positive; or, with {@code config}, whole models as a mergekit configuration describes
 * them. Sent once by the artifacts service; a redelivered request whose result is already stored is
 * answered again from that result, not merged twice.
 *
 * @param method linear, task_arithmetic, ties, dare_linear or dare_ties; for a config, its merge_method
 * @param rank 0 for a model; the LoRA rank of an adapter
 * @param outputId the id the result will be registered under (a model or an adapter id)
 * @param config a mergekit YAML configuration naming registered ids ({@code model-…} or
 *     {@code model-…+adapter-…}); null for an adapter merge
 * @param models the files of every id the config names
 * @param learned a learned merge's settings and calibration datasets; null for any other merge
 */
public record MergeRequested(
    String eventId,
    Instant time,
    String aggregateId,
    String tenant,
    String modelId,
    List<ObjectRef> modelFiles,
    List<Input> adapters,
    String method,
    double density,
    long seed,
    int rank,
    String outputId,
    String config,
    List<Registered> models,
    Learned learned)
    implements PlatformEvent {
  public MergeRequested {
    modelFiles = List.copyOf(modelFiles);
    adapters = List.copyOf(adapters);
    models = models == null ? List.of() : List.copyOf(models); // absent from requests sent before configs existed
  }

  /**
   * A learned merge (Expert Merging, AdaMerging) of the adapters: its settings, and its calibration
   * datasets — one per adapter, in order, for Expert Merging; one shared set for AdaMerging.
   */
  public record Learned(LearnedMergeSpec spec, List<Registered> calibration) {
    public Learned {
      calibration = List.copyOf(calibration);
    }
  }

  /** A registered model, adapter or dataset, by id, with its files. */
  public record Registered(String id, List<ObjectRef> files) {
    public Registered {
      files = List.copyOf(files);
    }
  }

  /** One adapter to merge, with its weight. */
  public record Input(String adapterId, List<ObjectRef> files, double weight) {
    public Input {
      files = List.copyOf(files);
    }
  }
}

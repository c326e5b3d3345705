package io.peftplatform.events;

import java.time.Instant;
import java.util.List;

/**
 * Merge adapters of one base model (docs/merging.md): into a new model, or into one LoRA adapter when
 * {@code rank} is positive. Sent once by the artifacts service; a redelivered request whose result is
 * already stored is answered again from that result, not merged twice.
 *
 * @param method linear, task_arithmetic, ties, dare_linear or dare_ties
 * @param rank 0 for a model; the LoRA rank of an adapter
 * @param outputId the id the result will be registered under (a model or an adapter id)
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
    String outputId)
    implements PlatformEvent {
  public MergeRequested {
    modelFiles = List.copyOf(modelFiles);
    adapters = List.copyOf(adapters);
  }

  /** One adapter to merge, with its weight. */
  public record Input(String adapterId, List<ObjectRef> files, double weight) {
    public Input {
      files = List.copyOf(files);
    }
  }
}

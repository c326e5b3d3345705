package io.peftplatform.events;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A job finished training; its adapter is in the bucket.
 *
 * @param adapterFiles adapter_config.json, adapter_model.safetensors, training_provenance.json
 * @param metrics train_loss, validation_loss (when validated), best_validation_loss, steps, seconds
 * @param trainableParameters the adapter's size
 */
public record JobSucceeded(String eventId, Instant time, String aggregateId, String tenant, String modelId,
    String method, List<ObjectRef> adapterFiles, long trainableParameters, Map<String, Double> metrics,
    String stopReason) implements PlatformEvent {
  public JobSucceeded {
    adapterFiles = List.copyOf(adapterFiles);
    metrics = Map.copyOf(metrics);
  }
}

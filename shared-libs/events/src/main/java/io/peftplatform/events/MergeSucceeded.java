package io.peftplatform.events;

import java.time.Instant;
import java.util.List;

/**
 * A merge finished; its output is in the bucket.
 *
 * @param output "model" or "adapter"
 * @param files the model directory's files, or adapter_config.json and adapter_model.safetensors, and
 *     peft_merge.json either way
 * @param parameters the model's, or the adapter's trainable parameters
 */
public record MergeSucceeded(String eventId, Instant time, String aggregateId, String tenant, String modelId, String output,
    String outputId, List<ObjectRef> files, long parameters, String architecture) implements PlatformEvent {
  public MergeSucceeded {
    files = List.copyOf(files);
  }
}

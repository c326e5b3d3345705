package io.peftplatform.events;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A training step's numbers; validationLoss is null at steps without validation. metrics are the
 * objective's others (DPO: reward_margin, reward_accuracy, chosen/rejected rewards and log-probs, and
 * validation_ ones when validated); empty for supervised training and in events from before them.
 */
public record TrainingProgressed(String eventId, Instant time, String aggregateId, String tenant, int step,
    int totalSteps, double epoch, double trainLoss, Double validationLoss, double learningRate,
    double tokensPerSecond, double etaSeconds, Map<String, Double> metrics) implements PlatformEvent {
  public TrainingProgressed {
    metrics = metrics == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
  }
}

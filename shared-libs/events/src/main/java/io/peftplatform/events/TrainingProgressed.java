package io.peftplatform.events;

import java.time.Instant;

/** A training step's numbers; validationLoss is null at steps without validation. */
public record TrainingProgressed(String eventId, Instant time, String aggregateId, String tenant, int step,
    int totalSteps, double epoch, double trainLoss, Double validationLoss, double learningRate,
    double tokensPerSecond, double etaSeconds) implements PlatformEvent {}

package io.peftplatform.training;

import java.nio.file.Path;

/**
 * How a run ended.
 *
 * @param stopReason "completed", "early_stopping", "cancelled" or "paused" (a checkpoint saved where it stopped)
 * @param bestValidationLoss lowest validation loss seen (NaN without validation); the written adapter is
 *     the one that reached it
 * @param trainedTokens the scored tokens trained on, or -1 when the run resumed from a checkpoint (the
 *     steps before it are not counted here)
 */
public record TrainingResult(
    Path adapterDirectory,
    int steps,
    double finalTrainLoss,
    double finalValidationLoss,
    double bestValidationLoss,
    String stopReason,
    double seconds,
    long trainedTokens) {}

package io.peftplatform.jobs.rest;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftplatform.jobs.Job;
import io.peftplatform.jobs.JobCheckpoint;
import io.peftplatform.jobs.JobEventEntry;
import io.peftplatform.jobs.service.JobJson;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/** The public shapes of jobs, their events and checkpoints, after OpenAI's fine-tuning API. */
public final class JobResponses {
  static final ObjectMapper JSON = new ObjectMapper();

  private JobResponses() {}

  static JsonNode tree(String json) {
    try {
      return json == null ? null : JSON.readTree(json);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @JsonInclude(JsonInclude.Include.ALWAYS)
  public record ErrorInfo(String code, String message, String param) {}

  /**
   * OpenAI's fine-tuning job object; this platform's extensions after {@code integrations}: the adapter,
   * progress in steps, the final metrics ({@code result}), the worker and attempt running it, and when
   * it was found stalled.
   */
  @JsonInclude(JsonInclude.Include.ALWAYS)
  public record JobResponse(String object, String id, String model, long createdAt, Long finishedAt, String status,
      String trainingFile, String validationFile, String fineTunedModel, JsonNode method, JsonNode hyperparameters, long seed,
      String userProvidedSuffix, JsonNode metadata, ErrorInfo error, String organizationId, List<String> resultFiles,
      Long trainedTokens, Long estimatedFinish, List<Object> integrations,
      JsonNode adapter, boolean cancelRequested, Integer trainedSteps, Integer totalSteps, JsonNode result, String worker,
      Integer attempt, Long stalledAt) {
    public static JobResponse of(Job j) {
      JsonNode result = tree(j.result);
      Long trainedTokens = result != null && result.has("trained_tokens") ? result.get("trained_tokens").asLong() : null;
      return new JobResponse("fine_tuning.job", j.id, j.modelId, j.createdAt.getEpochSecond(),
          j.finishedAt == null ? null : j.finishedAt.getEpochSecond(), j.status, j.trainingFile, j.validationFile,
          j.fineTunedModel, tree(j.method), tree(j.hyperparameters), j.seed, j.suffix, tree(j.metadata),
          j.errorCode == null ? null : new ErrorInfo(j.errorCode, j.errorMessage, j.errorParam), j.tenant, List.of(),
          trainedTokens, finishEstimate(j, java.time.Instant.now()), List.of(),
          tree(j.adapter), j.cancelRequested, j.trainedSteps, j.totalSteps, result, j.worker, j.attempt == 0 ? null : j.attempt,
          j.stalledAt == null ? null : j.stalledAt.getEpochSecond());
    }
  }

  /** When a running job will end at the pace it has kept since it started (epoch seconds); null when unknown. */
  static Long finishEstimate(Job j, java.time.Instant now) {
    if (!j.status.equals("running") || j.startedAt == null || j.totalSteps == null || j.trainedSteps <= 0) {
      return null;
    }
    double perStep = (double) java.time.Duration.between(j.startedAt, now).toMillis() / j.trainedSteps;
    return now.plusMillis(Math.round(perStep * Math.max(0, j.totalSteps - j.trainedSteps))).getEpochSecond();
  }

  public record EventResponse(String object, String id, long createdAt, String level, String type, String message, JsonNode data) {
    public static EventResponse of(JobEventEntry e) {
      return new EventResponse("fine_tuning.job.event", e.id, e.createdAt.getEpochSecond(), e.level, e.type, e.message, tree(e.data));
    }
  }

  /**
   * OpenAI's checkpoint object: {@code fine_tuned_model_checkpoint} names the checkpoint's adapter
   * ({@code <adapter id>:ckpt-step-<n>}), {@code metrics} carries the step's losses; {@code files} (an
   * extension) lists the checkpoint's adapter files.
   */
  public record CheckpointResponse(String object, String id, String fineTuningJobId, String fineTunedModelCheckpoint, int stepNumber,
      long createdAt, java.util.Map<String, Object> metrics, List<FileInfo> files) {
    public static CheckpointResponse of(JobCheckpoint c) {
      java.util.Map<String, Object> metrics = new java.util.LinkedHashMap<>();
      metrics.put("step", c.step);
      if (c.validationLoss != null) {
        metrics.put("valid_loss", c.validationLoss);
        metrics.put("full_valid_loss", c.validationLoss);
      }
      return new CheckpointResponse("fine_tuning.job.checkpoint", c.id, c.jobId, "adapter-" + c.jobId.substring(6) + ":ckpt-step-" + c.step,
          c.step, c.createdAt.getEpochSecond(), metrics,
          JobJson.refs(c.files).stream().map(r -> new FileInfo(r.key().substring(r.key().lastIndexOf('/') + 1), r.bytes(), r.sha256())).toList());
    }
  }

  public record FileInfo(String name, long bytes, String sha256) {}

}

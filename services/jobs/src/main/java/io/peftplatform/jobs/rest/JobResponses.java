package io.peftplatform.jobs.rest;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftplatform.jobs.Job;
import io.peftplatform.jobs.JobCheckpoint;
import io.peftplatform.jobs.JobEventEntry;
import io.peftplatform.jobs.service.JobService;
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

  @JsonInclude(JsonInclude.Include.ALWAYS)
  public record JobResponse(String object, String id, String model, long createdAt, Long finishedAt, String status,
      String trainingFile, String validationFile, String fineTunedModel, JsonNode method, JsonNode hyperparameters, long seed,
      String suffix, JsonNode metadata, ErrorInfo error, boolean cancelRequested, Integer trainedSteps, Integer totalSteps,
      JsonNode result, String worker, Integer attempt, Long stalledAt) {
    public static JobResponse of(Job j) {
      return new JobResponse("fine_tuning.job", j.id, j.modelId, j.createdAt.getEpochSecond(),
          j.finishedAt == null ? null : j.finishedAt.getEpochSecond(), j.status, j.trainingFile, j.validationFile,
          j.fineTunedModel, tree(j.method), tree(j.hyperparameters), j.seed, j.suffix, tree(j.metadata),
          j.errorCode == null ? null : new ErrorInfo(j.errorCode, j.errorMessage, j.errorParam), j.cancelRequested,
          j.trainedSteps, j.totalSteps, tree(j.result), j.worker, j.attempt == 0 ? null : j.attempt,
          j.stalledAt == null ? null : j.stalledAt.getEpochSecond());
    }
  }

  public record EventResponse(String object, String id, long createdAt, String level, String type, String message, JsonNode data) {
    public static EventResponse of(JobEventEntry e) {
      return new EventResponse("fine_tuning.job.event", e.id, e.createdAt.getEpochSecond(), e.level, e.type, e.message, tree(e.data));
    }
  }

  public record CheckpointResponse(String object, String id, String fineTuningJobId, int stepNumber, long createdAt,
      Double validLoss, List<FileInfo> files) {
    public static CheckpointResponse of(JobCheckpoint c) {
      return new CheckpointResponse("fine_tuning.job.checkpoint", c.id, c.jobId, c.step, c.createdAt.getEpochSecond(), c.validationLoss,
          JobService.refs(c.files).stream().map(r -> new FileInfo(r.key().substring(r.key().lastIndexOf('/') + 1), r.bytes(), r.sha256())).toList());
    }
  }

  public record FileInfo(String name, long bytes, String sha256) {}

  public record ListResponse<T>(String object, List<T> data, boolean hasMore) {}
}

package io.peftplatform.events;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.time.Instant;

/**
 * An event one service publishes and others consume. Every event has a unique id (consumers remember
 * the ids they processed, so a redelivered event has no second effect), its time, the id of the
 * aggregate it is about (the Kafka key) and the tenant that owns that aggregate. The JSON form carries
 * the type name in {@code "type"}.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
  @JsonSubTypes.Type(value = JobSubmitted.class, name = "JobSubmitted"),
  @JsonSubTypes.Type(value = JobCancelRequested.class, name = "JobCancelRequested"),
  @JsonSubTypes.Type(value = JobStarted.class, name = "JobStarted"),
  @JsonSubTypes.Type(value = TrainingProgressed.class, name = "TrainingProgressed"),
  @JsonSubTypes.Type(value = JobHeartbeat.class, name = "JobHeartbeat"),
  @JsonSubTypes.Type(value = CheckpointSaved.class, name = "CheckpointSaved"),
  @JsonSubTypes.Type(value = JobSucceeded.class, name = "JobSucceeded"),
  @JsonSubTypes.Type(value = JobFailed.class, name = "JobFailed"),
  @JsonSubTypes.Type(value = JobCancelled.class, name = "JobCancelled"),
  @JsonSubTypes.Type(value = JobPauseRequested.class, name = "JobPauseRequested"),
  @JsonSubTypes.Type(value = JobResumeRequested.class, name = "JobResumeRequested"),
  @JsonSubTypes.Type(value = JobPaused.class, name = "JobPaused"),
  @JsonSubTypes.Type(value = ModelChanged.class, name = "ModelChanged"),
  @JsonSubTypes.Type(value = DatasetChanged.class, name = "DatasetChanged"),
  @JsonSubTypes.Type(value = ArtifactDeleted.class, name = "ArtifactDeleted"),
  @JsonSubTypes.Type(value = MergeRequested.class, name = "MergeRequested"),
  @JsonSubTypes.Type(value = MergeSucceeded.class, name = "MergeSucceeded"),
  @JsonSubTypes.Type(value = MergeFailed.class, name = "MergeFailed"),
  @JsonSubTypes.Type(value = MergeProgressed.class, name = "MergeProgressed"),
  @JsonSubTypes.Type(value = MergeCancelRequested.class, name = "MergeCancelRequested"),
  @JsonSubTypes.Type(value = MergeCancelled.class, name = "MergeCancelled"),
})
public sealed interface PlatformEvent
    permits JobSubmitted, JobCancelRequested, JobStarted, TrainingProgressed, JobHeartbeat, CheckpointSaved, JobSucceeded,
        JobFailed, JobCancelled, JobPauseRequested, JobResumeRequested, JobPaused, ModelChanged, DatasetChanged, ArtifactDeleted, MergeRequested, MergeSucceeded,
        MergeFailed, MergeProgressed, MergeCancelRequested, MergeCancelled {
  String eventId();

  Instant time();

  String aggregateId();

  String tenant();
}

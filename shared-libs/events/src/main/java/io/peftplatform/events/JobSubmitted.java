package io.peftplatform.events;

import io.peftplatform.training.spec.RunSpec;
import java.time.Instant;
import java.util.List;

/**
 * A job to run: the base model's files, the training (and validation) file, the run spec. Sent once by the
 * jobs service; redelivered if a worker dies before finishing it, in which case the next worker resumes
 * from the job's last checkpoint.
 *
 * @param validationFile null without validation
 */
public record JobSubmitted(
    String eventId,
    Instant time,
    String aggregateId,
    String tenant,
    String modelId,
    List<ObjectRef> modelFiles,
    ObjectRef trainingFile,
    ObjectRef validationFile,
    RunSpec spec)
    implements PlatformEvent {
  public JobSubmitted {
    modelFiles = List.copyOf(modelFiles);
  }
}

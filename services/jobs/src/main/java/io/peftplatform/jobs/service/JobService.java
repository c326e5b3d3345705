package io.peftplatform.jobs.service;

import io.peftplatform.events.EventCodec;
import io.peftplatform.events.JobCancelRequested;
import io.peftplatform.events.JobPauseRequested;
import io.peftplatform.events.JobResumeRequested;
import io.peftplatform.events.Topics;
import io.peftplatform.jobs.DatasetRef;
import io.peftplatform.jobs.Job;
import io.peftplatform.jobs.JobCheckpoint;
import io.peftplatform.jobs.JobEventEntry;
import io.peftplatform.jobs.JobStatus;
import io.peftplatform.jobs.ModelRef;
import io.peftplatform.service.outbox.Outbox;
import io.peftplatform.service.problem.ApiException;
import jakarta.enterprise.context.ApplicationScoped;
import io.peftplatform.service.tracing.EventTracing;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.transaction.Transactional;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Fine-tuning jobs as the API sees them: created (queued when its model and files are ready, the command
 * going to the workers in the same transaction — {@link JobDispatch}), read, listed, cancelled. What the
 * workers report is applied by {@link WorkerEvents}; the events users read are {@link JobEventLog}'s.
 */
@ApplicationScoped
public class JobService {
  private static final SecureRandom RANDOM = new SecureRandom();

  @Inject Outbox outbox;
  @Inject EntityManager em;
  @Inject JobEventLog eventLog;
  @Inject JobDispatch dispatch;
  @Inject EventTracing tracing;

  /** The dataset formats (as the artifact service names them) of preference pairs. */
  static final Set<String> PREFERENCE_FORMATS = Set.of("preference", "prompt_chosen_rejected");

  @Transactional
  public Job create(String tenant, JobRequest r) {
    ModelRef model = ModelRef.<ModelRef>find("id = ?1 and tenant = ?2", r.model(), tenant).firstResultOptional()
        .orElseThrow(() -> ApiException.badRequest("no model " + r.model(), "model"));
    if (model.status.equals("failed")) {
      throw ApiException.badRequest("model " + r.model() + " failed validation: " + model.error, "model");
    }
    requireFormat(dataset(tenant, r.trainingFile(), "training_file"), r, "training_file");
    if (r.validationFile() != null) {
      requireFormat(dataset(tenant, r.validationFile(), "validation_file"), r, "validation_file");
    }
    Job job = newJob(tenant, r);
    job.traceparent = tracing.currentTraceparent();
    EventTracing.tag(EventTracing.JOB_ID, job.id);
    job.persist();
    eventLog.log(job, "info", "Created fine-tuning job " + job.id + " (" + r.spec().objective().kind().apiName() + ", "
        + r.spec().adapter().method().cliName() + ")", null);
    dispatch.dispatchIfReady(job);
    return job;
  }

  /** A new job of the request, not yet stored. */
  static Job newJob(String tenant, JobRequest r) {
    Job job = new Job();
    byte[] b = new byte[12];
    RANDOM.nextBytes(b);
    job.id = "ftjob-" + HexFormat.of().formatHex(b);
    job.tenant = tenant;
    job.status = JobStatus.VALIDATING_FILES.wire();
    job.modelId = r.model();
    job.trainingFile = r.trainingFile();
    job.validationFile = r.validationFile();
    job.method = JobJson.write(r.method());
    job.hyperparameters = JobJson.write(r.hyperparameters());
    job.adapter = JobJson.write(r.adapter());
    job.spec = JobJson.write(r.spec());
    job.seed = r.seed();
    job.suffix = r.suffix();
    job.metadata = r.metadata().isEmpty() ? null : JobJson.write(r.metadata());
    job.createdAt = Instant.now();
    job.updatedAt = job.createdAt;
    return job;
  }

  /** Preference pairs for preference tuning (DPO, SimPO, ORPO), supervised records otherwise: refused at submission, not by the worker. */
  private static void requireFormat(DatasetRef d, JobRequest r, String field) {
    boolean pairs = PREFERENCE_FORMATS.contains(d.format);
    boolean dpo = r.spec().objective().pairwise();
    if (d.format != null && pairs != dpo) {
      throw ApiException.badRequest(dpo
          ? "file " + d.id + " holds " + d.format + " records; method " + r.spec().objective().kind().apiName()
              + " needs preference pairs ({input, preferred_output,"
              + " non_preferred_output} or {prompt, chosen, rejected})"
          : "file " + d.id + " holds preference pairs (" + d.format + "): train on them with method.type \"dpo\", \"simpo\" or \"orpo\"",
              field);
    }
  }

  private DatasetRef dataset(String tenant, String id, String field) {
    DatasetRef d = DatasetRef.<DatasetRef>find("id = ?1 and tenant = ?2", id, tenant).firstResultOptional()
        .orElseThrow(() -> ApiException.badRequest("no file " + id, field));
    if (!d.status.equals("ready")) {
      throw ApiException.badRequest("file " + id + " is " + d.status, field);
    }
    return d;
  }

  public Optional<Job> find(String tenant, String id) {
    return Job.<Job>find("id = ?1 and tenant = ?2", id, tenant).firstResultOptional();
  }

  public Job get(String tenant, String id) {
    return find(tenant, id).orElseThrow(() -> ApiException.notFound("no fine-tuning job " + id, "id"));
  }

  /** Newest first, after a cursor job id, optionally only jobs in one status. */
  public List<Job> list(String tenant, String after, int limit, String status) {
    if (limit < 1 || limit > 100) {
      throw ApiException.badRequest("limit must be between 1 and 100, got " + limit, "limit");
    }
    StringBuilder q = new StringBuilder("FROM Job WHERE tenant = :tenant");
    if (status != null) {
      try {
        JobStatus.parse(status);
      } catch (IllegalArgumentException e) {
        throw ApiException.badRequest("status must be one of validating_files, queued, running, paused, succeeded, failed, cancelled", "status");
      }
      q.append(" AND status = :status");
    }
    Job cursor = null;
    if (after != null && !after.isBlank()) {
      cursor = find(tenant, after).orElseThrow(() -> ApiException.badRequest("no fine-tuning job " + after + " to page after", "after"));
      q.append(" AND (createdAt < :c OR (createdAt = :c AND id < :id))");
    }
    var query = em.createQuery(q.append(" ORDER BY createdAt DESC, id DESC").toString(), Job.class).setParameter("tenant", tenant);
    if (status != null) {
      query.setParameter("status", status);
    }
    if (cursor != null) {
      query.setParameter("c", cursor.createdAt).setParameter("id", cursor.id);
    }
    return query.setMaxResults(limit + 1).getResultList();
  }

  /**
   * Cancels a job: one that has not started ends at once; a running one ends when its worker confirms
   * (within a step). Either way every worker is told, so one that picks the job up later skips it.
   */
  @Transactional
  public Job cancel(String tenant, String id) {
    Job job = get(tenant, id);
    if (job.state().terminal()) {
      throw new ApiException(409, "fine-tuning job " + id + " has already " + (job.state() == JobStatus.SUCCEEDED ? "succeeded" : "ended: " + job.status), "id");
    }
    if (job.cancelRequested) {
      return job;
    }
    job.cancelRequested = true;
    if (job.state() != JobStatus.RUNNING) {
      job.moveTo(JobStatus.CANCELLED);
      eventLog.log(job, "info", "Job cancelled", null);
      dispatch.dispatchWaiting(tenant);
    } else {
      eventLog.log(job, "info", "Cancellation requested; the worker stops after the current step", null);
    }
    outbox.add(Topics.JOB_CONTROL, new JobCancelRequested(EventCodec.newId(), Instant.now(), job.id, tenant));
    return job;
  }

  /** The job's events, oldest first, after a cursor event id. */
  public List<JobEventEntry> events(String tenant, String jobId, String after, int limit) {
    get(tenant, jobId);
    return eventLog.page(jobId, after, limit);
  }


  @Transactional
  public Optional<Job> reload(String tenant, String id) {
    return find(tenant, id);
  }

  public List<JobCheckpoint> checkpoints(String tenant, String jobId) {
    get(tenant, jobId);
    return JobCheckpoint.list("jobId = ?1 order by step desc", jobId);
  }

  /**
   * Pauses a job its worker has: the worker saves a checkpoint after the current step and stops, and the
   * job is {@code paused} once it says so (OpenAI's pause). It holds no slot of the tenant's while paused.
   */
  @Transactional
  public Job pause(String tenant, String id) {
    Job job = get(tenant, id);
    if (job.state() == JobStatus.PAUSED || job.pauseRequested) {
      return job;
    }
    boolean withWorker = job.state() == JobStatus.RUNNING || (job.state() == JobStatus.QUEUED && job.dispatchedAt != null);
    if (!withWorker || job.cancelRequested) {
      throw new ApiException(409, "fine-tuning job " + id + " is " + job.status + (job.cancelRequested ? " (cancelling)" : "")
          + "; only a running job can be paused", "id");
    }
    job.pauseRequested = true;
    eventLog.log(job, "info", "Pause requested; the worker saves a checkpoint after the current step and stops", null);
    outbox.add(Topics.JOB_CONTROL, new JobPauseRequested(EventCodec.newId(), Instant.now(), job.id, tenant));
    return job;
  }

  /** Resumes a paused job: queued again, and sent to a worker (when the tenant has a slot) to go on from its checkpoint. */
  @Transactional
  public Job resume(String tenant, String id) {
    Job job = get(tenant, id);
    if (job.state() != JobStatus.PAUSED) {
      throw new ApiException(409, "fine-tuning job " + id + " is " + job.status + ", not paused", "id");
    }
    job.moveTo(JobStatus.QUEUED);
    job.dispatchedAt = null;
    eventLog.log(job, "info", "Resumed; the job goes on from step " + job.trainedSteps + " when a worker takes it", null);
    // The control record first: the worker that takes the new command reads the control topic up to it before starting.
    outbox.add(Topics.JOB_CONTROL, new JobResumeRequested(EventCodec.newId(), Instant.now(), job.id, tenant));
    dispatch.dispatchWaiting(tenant);
    return job;
  }

}

package io.peftplatform.jobs.service;

import io.peftplatform.events.EventCodec;
import io.peftplatform.events.JobSubmitted;
import io.peftplatform.events.Topics;
import io.peftplatform.jobs.DatasetRef;
import io.peftplatform.jobs.Job;
import io.peftplatform.jobs.JobStatus;
import io.peftplatform.jobs.ModelRef;
import io.peftplatform.jobs.config.JobsConfig;
import io.peftplatform.service.outbox.Outbox;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import io.quarkus.scheduler.Scheduled;
import jakarta.persistence.EntityManager;
import jakarta.persistence.LockModeType;
import jakarta.transaction.Transactional;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * When a job goes to the workers: once its model is ready and its files exist (else it fails with the
 * reason), and while its tenant has one of its {@code peft.limits.running-jobs-per-tenant} slots free;
 * the command goes out through the outbox, in the transaction that queues the job.
 */
@ApplicationScoped
public class JobDispatch {
  @Inject Outbox outbox;
  @Inject EntityManager em;
  @Inject JobsConfig config;
  @Inject JobEventLog eventLog;

  List<Job> waitingFor(String modelId) {
    return Job.list("status = ?1 and modelId = ?2", JobStatus.VALIDATING_FILES.wire(), modelId);
  }

  /** A waiting job whose model is ready is queued (and submitted); one whose model failed or vanished fails. */
  void dispatchIfReady(Job job) {
    if (job.state() != JobStatus.VALIDATING_FILES) {
      return;
    }
    Optional<ModelRef> model = ModelRef.findByIdOptional(job.modelId);
    if (model.isEmpty() || model.get().status.equals("failed")) {
      job.moveTo(JobStatus.FAILED);
      job.errorCode = "invalid_model";
      job.errorMessage = model.isEmpty() ? "model " + job.modelId + " was deleted" : "model " + job.modelId + " failed validation: " + model.get().error;
      job.errorParam = "model";
      eventLog.log(job, "error", "Job failed: " + job.errorMessage, null);
      return;
    }
    if (!model.get().status.equals("ready")) {
      eventLog.log(job, "info", "Waiting for model " + job.modelId + " to finish validation", null);
      return;
    }
    Optional<DatasetRef> training = DatasetRef.findByIdOptional(job.trainingFile);
    Optional<DatasetRef> validation = job.validationFile == null ? Optional.empty() : DatasetRef.findByIdOptional(job.validationFile);
    if (training.isEmpty() || (job.validationFile != null && validation.isEmpty())) {
      job.moveTo(JobStatus.FAILED);
      job.errorCode = "invalid_file";
      job.errorMessage = "a file of this job was deleted";
      eventLog.log(job, "error", "Job failed: " + job.errorMessage, null);
      return;
    }
    job.moveTo(JobStatus.QUEUED);
    if (hasSlot(job.tenant)) {
      eventLog.log(job, "info", "Files validated; job queued", null);
      submit(job, model.get(), training.get(), validation.orElse(null));
    } else {
      int limit = config.limits().runningJobsPerTenant();
      eventLog.log(job, "info", "Files validated; waiting for one of this tenant's " + limit + " running jobs to finish"
          + " (peft.limits.running-jobs-per-tenant)", null);
    }
  }

  void submit(Job job, ModelRef model, DatasetRef training, DatasetRef validation) {
    job.dispatchedAt = Instant.now();
    // In the trace of the request that created the job, whatever transaction sends it.
    outbox.add(Topics.JOB_COMMANDS, new JobSubmitted(EventCodec.newId(), Instant.now(), job.id, job.tenant, job.modelId,
        JobJson.refs(model.files), JobJson.ref(training.file), validation == null ? null : JobJson.ref(validation.file), JobJson.spec(job)),
        job.traceparent);
  }

  /**
   * Whether the tenant may have one more job with the workers. The tenant's row is locked first, so two
   * transactions deciding at once see each other's dispatch.
   */
  boolean hasSlot(String tenant) {
    em.find(io.peftplatform.jobs.Tenant.class, tenant, LockModeType.PESSIMISTIC_WRITE);
    long active = Job.count("tenant = ?1 and status in ?2 and dispatchedAt is not null", tenant,
        List.of(JobStatus.QUEUED.wire(), JobStatus.RUNNING.wire()));
    return active < config.limits().runningJobsPerTenant();
  }

  /** Sends the tenant's waiting jobs to the workers, oldest first, while it has slots. */
  void dispatchWaiting(String tenant) {
    List<Job> waiting = Job.list("tenant = ?1 and status = ?2 and dispatchedAt is null order by createdAt, id", tenant,
        JobStatus.QUEUED.wire());
    for (Job job : waiting) {
      if (!hasSlot(tenant)) {
        return;
      }
      Optional<ModelRef> model = ModelRef.<ModelRef>findByIdOptional(job.modelId).filter(m -> m.status.equals("ready"));
      Optional<DatasetRef> training = DatasetRef.findByIdOptional(job.trainingFile);
      Optional<DatasetRef> validation = job.validationFile == null ? Optional.empty() : DatasetRef.findByIdOptional(job.validationFile);
      if (model.isEmpty() || training.isEmpty() || (job.validationFile != null && validation.isEmpty())) {
        job.moveTo(JobStatus.FAILED);
        job.errorCode = model.isEmpty() ? "invalid_model" : "invalid_file";
        job.errorMessage = model.isEmpty() ? "model " + job.modelId + " is gone" : "a file of this job was deleted";
        eventLog.log(job, "error", "Job failed: " + job.errorMessage, null);
        continue;
      }
      eventLog.log(job, "info", "A slot is free; job queued", null);
      submit(job, model.get(), training.get(), validation.orElse(null));
    }
  }

  /** Safety net for the slots of tenants: jobs waiting for one are dispatched once one is free. */
  @Scheduled(every = "${peft.schedule.dispatch-check:30s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
  @Transactional
  void dispatchAllWaiting() {
    em.createQuery("SELECT DISTINCT j.tenant FROM Job j WHERE j.status = :s AND j.dispatchedAt IS NULL", String.class)
        .setParameter("s", JobStatus.QUEUED.wire()).getResultList().forEach(this::dispatchWaiting);
  }
}

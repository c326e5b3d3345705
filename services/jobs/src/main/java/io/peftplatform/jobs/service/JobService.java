package io.peftplatform.jobs.service;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftplatform.events.ArtifactDeleted;
import io.peftplatform.events.CheckpointSaved;
import io.peftplatform.events.DatasetChanged;
import io.peftplatform.events.EventCodec;
import io.peftplatform.events.JobCancelRequested;
import io.peftplatform.events.JobCancelled;
import io.peftplatform.events.JobFailed;
import io.peftplatform.events.JobHeartbeat;
import io.peftplatform.events.JobSpec;
import io.peftplatform.events.JobStarted;
import io.peftplatform.events.JobSubmitted;
import io.peftplatform.events.JobSucceeded;
import io.peftplatform.events.ModelChanged;
import io.peftplatform.events.ObjectRef;
import io.peftplatform.events.PlatformEvent;
import io.peftplatform.events.Topics;
import io.peftplatform.events.TrainingProgressed;
import io.peftplatform.jobs.DatasetRef;
import io.peftplatform.jobs.Job;
import io.peftplatform.jobs.JobCheckpoint;
import io.peftplatform.jobs.JobEventEntry;
import io.peftplatform.jobs.JobStatus;
import io.peftplatform.jobs.ModelRef;
import io.peftplatform.jobs.config.JobsConfig;
import io.peftplatform.service.inbox.Inbox;
import io.peftplatform.service.outbox.Outbox;
import io.peftplatform.service.problem.ApiException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import io.quarkus.scheduler.Scheduled;
import jakarta.persistence.EntityManager;
import jakarta.persistence.LockModeType;
import jakarta.transaction.Transactional;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Fine-tuning jobs and their state machine. A job is created {@code queued} when its model and files are
 * ready (a {@link JobSubmitted} command goes to the workers through the outbox, in the same
 * transaction), or {@code validating_files} while the model is still being validated. Worker events
 * move it on; each is applied once (inbox), and a transition the lifecycle forbids is refused.
 */
@ApplicationScoped
public class JobService {
  private static final Logger LOG = Logger.getLogger(JobService.class);
  static final ObjectMapper JSON = new ObjectMapper();
  private static final SecureRandom RANDOM = new SecureRandom();

  @Inject Outbox outbox;
  @Inject Inbox inbox;
  @Inject EntityManager em;
  @Inject JobsConfig config;

  // ---------------------------------------------------------------- the API's side

  @Transactional
  public Job create(String tenant, JobRequest r) {
    ModelRef model = ModelRef.<ModelRef>find("id = ?1 and tenant = ?2", r.model(), tenant).firstResultOptional()
        .orElseThrow(() -> ApiException.badRequest("no model " + r.model(), "model"));
    if (model.status.equals("failed")) {
      throw ApiException.badRequest("model " + r.model() + " failed validation: " + model.error, "model");
    }
    dataset(tenant, r.trainingFile(), "training_file");
    if (r.validationFile() != null) {
      dataset(tenant, r.validationFile(), "validation_file");
    }
    Job job = new Job();
    byte[] b = new byte[12];
    RANDOM.nextBytes(b);
    job.id = "ftjob-" + HexFormat.of().formatHex(b);
    job.tenant = tenant;
    job.status = JobStatus.VALIDATING_FILES.wire();
    job.modelId = r.model();
    job.trainingFile = r.trainingFile();
    job.validationFile = r.validationFile();
    job.method = write(r.method());
    job.hyperparameters = write(r.hyperparameters());
    job.adapter = write(r.adapter());
    job.spec = write(r.spec());
    job.seed = r.seed();
    job.suffix = r.suffix();
    job.metadata = r.metadata().isEmpty() ? null : write(r.metadata());
    job.createdAt = Instant.now();
    job.updatedAt = job.createdAt;
    job.persist();
    log(job, "info", "Created fine-tuning job " + job.id + " (supervised, " + r.spec().method() + ")", null);
    dispatchIfReady(job);
    return job;
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
        throw ApiException.badRequest("status must be one of validating_files, queued, running, succeeded, failed, cancelled", "status");
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
      log(job, "info", "Job cancelled", null);
      dispatchWaiting(tenant);
    } else {
      log(job, "info", "Cancellation requested; the worker stops after the current step", null);
    }
    outbox.add(Topics.JOB_CONTROL, new JobCancelRequested(EventCodec.newId(), Instant.now(), job.id, tenant));
    return job;
  }

  public List<JobEventEntry> events(String tenant, String jobId, String after, int limit) {
    get(tenant, jobId);
    if (limit < 1 || limit > 1000) {
      throw ApiException.badRequest("limit must be between 1 and 1000, got " + limit, "limit");
    }
    long afterSeq = 0;
    if (after != null && !after.isBlank()) {
      JobEventEntry cursor = JobEventEntry.<JobEventEntry>find("id = ?1 and jobId = ?2", after, jobId).firstResult();
      if (cursor == null) {
        throw ApiException.badRequest("no event " + after + " of this job to page after", "after");
      }
      afterSeq = cursor.seq;
    }
    return em.createQuery("FROM JobEventEntry WHERE jobId = :job AND seq > :after ORDER BY seq", JobEventEntry.class)
        .setParameter("job", jobId).setParameter("after", afterSeq).setMaxResults(limit + 1).getResultList();
  }

  @Transactional
  public Optional<Job> reload(String tenant, String id) {
    return find(tenant, id);
  }

  public List<JobCheckpoint> checkpoints(String tenant, String jobId) {
    get(tenant, jobId);
    return JobCheckpoint.list("jobId = ?1 order by step desc", jobId);
  }

  // ---------------------------------------------------------------- events from workers and artifacts

  /**
   * Applies a worker's event to its job, once. Heartbeats only note that the worker still reports (they
   * are not remembered in the inbox, nor logged). Progress from a step already recorded (a resumed
   * attempt going over steps an earlier one reported) is not logged twice.
   */
  @Transactional
  public void onJobEvent(PlatformEvent e) {
    if (e instanceof JobHeartbeat h) {
      Job job = Job.findById(h.aggregateId());
      if (job != null && !job.state().terminal()) {
        reported(job, h.worker());
      }
      return;
    }
    if (!inbox.firstTime(e)) {
      return;
    }
    Job job = Job.findById(e.aggregateId());
    if (job == null) {
      LOG.warnf("%s for unknown job %s ignored", EventCodec.typeOf(e), e.aggregateId());
      return;
    }
    if (e instanceof JobStarted s) {
      boolean resumed = job.state() == JobStatus.RUNNING || job.stalledAt != null;
      if (!transition(job, JobStatus.RUNNING, e)) {
        return;
      }
      job.worker = s.worker();
      job.attempt = s.attempt();
      job.stalledAt = null;
      job.lastReportAt = Instant.now();
      job.totalSteps = s.totalSteps();
      if (job.startedAt == null) {
        job.startedAt = s.time();
      }
      String attempt = s.attempt() > 1 ? " (attempt " + s.attempt() + ")" : "";
      logAt(job, e.time(), "info", resumed || s.resumedFromStep() > 0
          ? "Resumed on " + s.worker() + " from step " + s.resumedFromStep() + " of " + s.totalSteps() + attempt
          : "Started on " + s.worker() + ": " + s.trainingExamples() + " training examples, " + s.totalSteps() + " steps" + attempt, null);
    } else if (e instanceof TrainingProgressed p) {
      reported(job, job.worker);
      if (job.state() != JobStatus.RUNNING || p.step() <= job.trainedSteps) {
        return;
      }
      job.trainedSteps = Math.max(job.trainedSteps, p.step());
      job.totalSteps = p.totalSteps();
      job.updatedAt = Instant.now();
      Map<String, Object> data = new LinkedHashMap<>();
      data.put("step", p.step());
      data.put("total_steps", p.totalSteps());
      data.put("epoch", round(p.epoch()));
      data.put("train_loss", round(p.trainLoss()));
      if (p.validationLoss() != null) {
        // Validation runs over the whole validation file: OpenAI's valid_loss and full_valid_loss at once.
        data.put("valid_loss", round(p.validationLoss()));
        data.put("full_valid_loss", round(p.validationLoss()));
      }
      data.put("learning_rate", p.learningRate());
      data.put("tokens_per_second", Math.round(p.tokensPerSecond()));
      data.put("eta_seconds", Math.round(p.etaSeconds()));
      JobEventEntry entry = entry(job, "info", "metrics", String.format(Locale.ROOT, "Step %d/%d: training loss=%.4f%s", p.step(), p.totalSteps(),
          p.trainLoss(), p.validationLoss() == null ? "" : String.format(Locale.ROOT, ", validation loss=%.4f", p.validationLoss())), data);
      entry.createdAt = p.time();
    } else if (e instanceof CheckpointSaved c) {
      reported(job, job.worker);
      if (JobCheckpoint.count("jobId = ?1 and step = ?2", job.id, c.step()) == 0) {
        JobCheckpoint cp = new JobCheckpoint();
        cp.id = "ftckpt-" + job.id.substring(6) + "-" + c.step();
        cp.jobId = job.id;
        cp.step = c.step();
        cp.prefix = c.prefix();
        cp.files = write(c.files());
        cp.validationLoss = c.validationLoss();
        cp.createdAt = c.time();
        cp.persist();
        logAt(job, e.time(), "info", "Checkpoint saved at step " + c.step(), null);
      }
    } else if (e instanceof JobSucceeded s) {
      if (!transition(job, JobStatus.SUCCEEDED, e)) {
        return;
      }
      job.fineTunedModel = "adapter-" + job.id.substring(6);
      job.adapterFiles = write(s.adapterFiles());
      job.result = write(s.metrics());
      if (s.metrics().containsKey("steps")) {
        job.trainedSteps = s.metrics().get("steps").intValue();
      }
      logAt(job, e.time(), "info", "Job succeeded: adapter " + job.fineTunedModel + " (" + s.trainableParameters() + " trainable parameters"
          + (s.stopReason().equals("early_stopping") ? ", stopped early" : "") + ")", null);
    } else if (e instanceof JobFailed f) {
      if (!transition(job, JobStatus.FAILED, e)) {
        return;
      }
      job.errorCode = f.code();
      job.errorMessage = f.message();
      logAt(job, e.time(), "error", "Job failed: " + f.message(), null);
    } else if (e instanceof JobCancelled c) {
      if (!transition(job, JobStatus.CANCELLED, e)) {
        return;
      }
      logAt(job, e.time(), "info", "Job cancelled after " + c.stepsDone() + " steps", null);
    }
    if (job.state().terminal()) {
      dispatchWaiting(job.tenant);
    }
  }

  /**
   * The job's worker reported: noted, and a job found stalled is running again (its worker was slow to
   * report, not gone).
   */
  private void reported(Job job, String worker) {
    job.lastReportAt = Instant.now();
    if (job.stalledAt != null && job.state() == JobStatus.QUEUED && job.moveTo(JobStatus.RUNNING)) {
      job.stalledAt = null;
      log(job, "info", "Worker " + worker + " is reporting again", null);
    }
  }

  /**
   * Running jobs whose worker has not reported within the lease: shown queued again, with the reason, until
   * a worker resumes them from their last checkpoint (the broker hands a dead worker's jobs to another;
   * a hung worker fails its liveness check and is restarted).
   */
  @Scheduled(every = "${peft.schedule.stall-check:10s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
  @Transactional
  void markStalled() {
    Instant now = Instant.now();
    List<Job> stale = em.createQuery("FROM Job WHERE status = :s AND lastReportAt < :limit AND stalledAt IS NULL", Job.class)
        .setParameter("s", JobStatus.RUNNING.wire()).setParameter("limit", now.minus(config.workerLease()))
        .setLockMode(LockModeType.PESSIMISTIC_WRITE).setHint("jakarta.persistence.lock.timeout", -2) // SKIP LOCKED: one replica logs it
        .setMaxResults(100).getResultList();
    for (Job job : stale) {
      if (job.moveTo(JobStatus.QUEUED)) {
        job.stalledAt = now;
        log(job, "warning", "No report from worker " + job.worker + " for " + config.workerLease().toSeconds()
            + " s: the job waits to be resumed from its last checkpoint", null);
      }
    }
  }

  /** Safety net for the slots of tenants: jobs waiting for one are dispatched once one is free. */
  @Scheduled(every = "${peft.schedule.dispatch-check:30s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
  @Transactional
  void dispatchAllWaiting() {
    em.createQuery("SELECT DISTINCT j.tenant FROM Job j WHERE j.status = :s AND j.dispatchedAt IS NULL", String.class)
        .setParameter("s", JobStatus.QUEUED.wire()).getResultList().forEach(this::dispatchWaiting);
  }

  /**
   * A worker's message about the job that can never be applied (it does not decode, or applying it fails
   * for good): the job fails with the reason, rather than waiting for an event that will not come.
   */
  @Transactional(Transactional.TxType.REQUIRES_NEW)
  public void failForUnreadableEvent(String jobId, String reason) {
    try {
      Job job = Job.findById(jobId);
      if (job != null && job.moveTo(JobStatus.FAILED)) {
        job.errorCode = "internal_error";
        job.errorMessage = "a report from the worker could not be applied: " + reason;
        log(job, "error", "Job failed: " + job.errorMessage, null);
        dispatchWaiting(job.tenant);
      }
    } catch (RuntimeException e) {
      LOG.errorf(e, "could not fail job %s", jobId);
    }
  }

  private boolean transition(Job job, JobStatus next, PlatformEvent cause) {
    if (job.moveTo(next)) {
      return true;
    }
    LOG.infof("%s refused for job %s: %s cannot become %s", EventCodec.typeOf(cause), job.id, job.status, next.wire());
    return false;
  }

  /** Keeps the projections of models and datasets, and moves waiting jobs on. */
  @Transactional
  public void onArtifactEvent(PlatformEvent e) {
    if (!inbox.firstTime(e)) {
      return;
    }
    if (e instanceof ModelChanged m) {
      ModelRef ref = ModelRef.findById(m.aggregateId());
      if (ref == null) {
        ref = new ModelRef();
        ref.id = m.aggregateId();
        ref.tenant = m.tenant();
      }
      ref.name = m.name();
      ref.status = m.status();
      ref.architecture = m.architecture();
      ref.files = write(m.files());
      ref.error = m.error();
      ref.updatedAt = m.time();
      ref.persist();
      waitingFor(m.aggregateId()).forEach(this::dispatchIfReady);
    } else if (e instanceof DatasetChanged d) {
      DatasetRef ref = DatasetRef.findById(d.aggregateId());
      if (ref == null) {
        ref = new DatasetRef();
        ref.id = d.aggregateId();
        ref.tenant = d.tenant();
      }
      ref.name = d.name();
      ref.status = d.status();
      ref.format = d.format();
      ref.rows = d.rows();
      ref.file = d.file() == null ? null : write(d.file());
      ref.updatedAt = d.time();
      ref.persist();
    } else if (e instanceof ArtifactDeleted d) {
      switch (d.kind()) {
        case "model" -> ModelRef.deleteById(d.aggregateId());
        case "dataset" -> DatasetRef.deleteById(d.aggregateId());
        case "adapter" -> Job.<Job>list("fineTunedModel", d.aggregateId()).forEach(j -> j.adapterFiles = null);
        default -> LOG.warnf("unknown artifact kind %s", d.kind());
      }
      waitingFor(d.aggregateId()).forEach(this::dispatchIfReady);
    }
  }

  private List<Job> waitingFor(String modelId) {
    return Job.list("status = ?1 and modelId = ?2", JobStatus.VALIDATING_FILES.wire(), modelId);
  }

  /** A waiting job whose model is ready is queued (and submitted); one whose model failed or vanished fails. */
  private void dispatchIfReady(Job job) {
    if (job.state() != JobStatus.VALIDATING_FILES) {
      return;
    }
    Optional<ModelRef> model = ModelRef.findByIdOptional(job.modelId);
    if (model.isEmpty() || model.get().status.equals("failed")) {
      job.moveTo(JobStatus.FAILED);
      job.errorCode = "invalid_model";
      job.errorMessage = model.isEmpty() ? "model " + job.modelId + " was deleted" : "model " + job.modelId + " failed validation: " + model.get().error;
      job.errorParam = "model";
      log(job, "error", "Job failed: " + job.errorMessage, null);
      return;
    }
    if (!model.get().status.equals("ready")) {
      log(job, "info", "Waiting for model " + job.modelId + " to finish validation", null);
      return;
    }
    Optional<DatasetRef> training = DatasetRef.findByIdOptional(job.trainingFile);
    Optional<DatasetRef> validation = job.validationFile == null ? Optional.empty() : DatasetRef.findByIdOptional(job.validationFile);
    if (training.isEmpty() || (job.validationFile != null && validation.isEmpty())) {
      job.moveTo(JobStatus.FAILED);
      job.errorCode = "invalid_file";
      job.errorMessage = "a file of this job was deleted";
      log(job, "error", "Job failed: " + job.errorMessage, null);
      return;
    }
    job.moveTo(JobStatus.QUEUED);
    if (hasSlot(job.tenant)) {
      log(job, "info", "Files validated; job queued", null);
      submit(job, model.get(), training.get(), validation.orElse(null));
    } else {
      int limit = config.limits().runningJobsPerTenant();
      log(job, "info", "Files validated; waiting for one of this tenant's " + limit + " running jobs to finish"
          + " (peft.limits.running-jobs-per-tenant)", null);
    }
  }

  private void submit(Job job, ModelRef model, DatasetRef training, DatasetRef validation) {
    job.dispatchedAt = Instant.now();
    outbox.add(Topics.JOB_COMMANDS, new JobSubmitted(EventCodec.newId(), Instant.now(), job.id, job.tenant, job.modelId,
        refs(model.files), ref(training.file), validation == null ? null : ref(validation.file), spec(job)));
  }

  /**
   * Whether the tenant may have one more job with the workers. The tenant's row is locked first, so two
   * transactions deciding at once see each other's dispatch.
   */
  private boolean hasSlot(String tenant) {
    em.find(io.peftplatform.jobs.Tenant.class, tenant, LockModeType.PESSIMISTIC_WRITE);
    long active = Job.count("tenant = ?1 and status in ?2 and dispatchedAt is not null", tenant,
        List.of(JobStatus.QUEUED.wire(), JobStatus.RUNNING.wire()));
    return active < config.limits().runningJobsPerTenant();
  }

  /** Sends the tenant's waiting jobs to the workers, oldest first, while it has slots. */
  private void dispatchWaiting(String tenant) {
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
        log(job, "error", "Job failed: " + job.errorMessage, null);
        continue;
      }
      log(job, "info", "A slot is free; job queued", null);
      submit(job, model.get(), training.get(), validation.orElse(null));
    }
  }

  // ---------------------------------------------------------------- helpers

  private void log(Job job, String level, String message, Map<String, Object> data) {
    entry(job, level, data == null ? "message" : "metrics", message, data);
  }

  /** An event reported by a worker: dated when the worker reported it. */
  private void logAt(Job job, Instant at, String level, String message, Map<String, Object> data) {
    entry(job, level, data == null ? "message" : "metrics", message, data).createdAt = at;
  }

  private JobEventEntry entry(Job job, String level, String type, String message, Map<String, Object> data) {
    JobEventEntry e = new JobEventEntry();
    byte[] b = new byte[12];
    RANDOM.nextBytes(b);
    e.id = "ftevent-" + HexFormat.of().formatHex(b);
    e.jobId = job.id;
    e.createdAt = Instant.now();
    e.level = level;
    e.type = type;
    e.message = message;
    e.data = data == null ? null : write(data);
    e.persist();
    return e;
  }

  private static double round(double v) {
    return Math.round(v * 1e6) / 1e6;
  }

  static String write(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(e);
    }
  }

  static <T> T read(String json, TypeReference<T> type) {
    try {
      return JSON.readValue(json, type);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  public static List<ObjectRef> refs(String json) {
    return json == null ? List.of() : read(json, new TypeReference<List<ObjectRef>>() {});
  }

  static ObjectRef ref(String json) {
    return read(json, new TypeReference<ObjectRef>() {});
  }

  static JobSpec spec(Job job) {
    return read(job.spec, new TypeReference<JobSpec>() {});
  }
}

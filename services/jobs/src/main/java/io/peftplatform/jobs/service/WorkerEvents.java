package io.peftplatform.jobs.service;

import io.peftplatform.events.CheckpointSaved;
import io.peftplatform.events.EventCodec;
import io.peftplatform.events.JobCancelled;
import io.peftplatform.events.JobFailed;
import io.peftplatform.events.JobHeartbeat;
import io.peftplatform.events.JobPaused;
import io.peftplatform.events.JobStarted;
import io.peftplatform.events.JobSucceeded;
import io.peftplatform.events.PlatformEvent;
import io.peftplatform.events.TrainingProgressed;
import io.peftplatform.jobs.Job;
import io.peftplatform.jobs.JobCheckpoint;
import io.peftplatform.jobs.JobEventEntry;
import io.peftplatform.jobs.JobStatus;
import io.peftplatform.jobs.config.JobsConfig;
import io.peftplatform.service.inbox.Inbox;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.persistence.LockModeType;
import jakarta.transaction.Transactional;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * What training workers report, applied to their jobs once each (inbox): starts, progress, checkpoints
 * and outcomes move a job through {@link JobStatus} (a transition it forbids is refused and logged);
 * heartbeats keep its lease, and a job whose worker stops reporting is shown queued again.
 */
@ApplicationScoped
public class WorkerEvents {
  private static final Logger LOG = Logger.getLogger(WorkerEvents.class);

  @Inject Inbox inbox;
  @Inject EntityManager em;
  @Inject JobsConfig config;
  @Inject JobEventLog eventLog;
  @Inject JobDispatch dispatch;

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
      eventLog.logAt(job, e.time(), "info", resumed || s.resumedFromStep() > 0
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
      p.metrics().forEach((name, value) -> data.put(name, round(value))); // DPO's rewards and log-probs
      Double accuracy = p.metrics().get("reward_accuracy");
      JobEventEntry entry = eventLog.entry(job, "info", "metrics", String.format(Locale.ROOT, "Step %d/%d: training loss=%.4f%s%s", p.step(),
          p.totalSteps(), p.trainLoss(), p.validationLoss() == null ? "" : String.format(Locale.ROOT, ", validation loss=%.4f", p.validationLoss()),
          accuracy == null ? "" : String.format(Locale.ROOT, ", reward accuracy=%.2f, reward margin=%.4f", accuracy,
              p.metrics().getOrDefault("reward_margin", Double.NaN))), data);
      entry.createdAt = p.time();
    } else if (e instanceof CheckpointSaved c) {
      reported(job, job.worker);
      if (JobCheckpoint.count("jobId = ?1 and step = ?2", job.id, c.step()) == 0) {
        JobCheckpoint cp = new JobCheckpoint();
        cp.id = "ftckpt-" + job.id.substring(6) + "-" + c.step();
        cp.jobId = job.id;
        cp.step = c.step();
        cp.prefix = c.prefix();
        cp.files = JobJson.write(c.files());
        cp.validationLoss = c.validationLoss();
        cp.createdAt = c.time();
        cp.persist();
        eventLog.logAt(job, e.time(), "info", "Checkpoint saved at step " + c.step(), null);
      }
    } else if (e instanceof JobSucceeded s) {
      if (!transition(job, JobStatus.SUCCEEDED, e)) {
        return;
      }
      job.fineTunedModel = "adapter-" + job.id.substring(6);
      job.adapterFiles = JobJson.write(s.adapterFiles());
      job.result = JobJson.write(s.metrics());
      if (s.metrics().containsKey("steps")) {
        job.trainedSteps = s.metrics().get("steps").intValue();
      }
      eventLog.logAt(job, e.time(), "info", "Job succeeded: adapter " + job.fineTunedModel + " (" + s.trainableParameters() + " trainable parameters"
          + (s.stopReason().equals("early_stopping") ? ", stopped early" : "") + ")", null);
    } else if (e instanceof JobFailed f) {
      if (!transition(job, JobStatus.FAILED, e)) {
        return;
      }
      job.errorCode = f.code();
      job.errorMessage = f.message();
      eventLog.logAt(job, e.time(), "error", "Job failed: " + f.message(), null);
    } else if (e instanceof JobPaused p) {
      if (!transition(job, JobStatus.PAUSED, e)) {
        return;
      }
      job.pauseRequested = false;
      job.trainedSteps = Math.max(job.trainedSteps, p.stepsDone()); // progress reports may lag the step it paused at
      job.stalledAt = null;
      job.dispatchedAt = null; // holds no slot while paused
      eventLog.logAt(job, e.time(), "info", "Job paused after " + p.stepsDone() + " steps; resume it to go on from there", null);
      dispatch.dispatchWaiting(job.tenant);
    } else if (e instanceof JobCancelled c) {
      if (!transition(job, JobStatus.CANCELLED, e)) {
        return;
      }
      eventLog.logAt(job, e.time(), "info", "Job cancelled after " + c.stepsDone() + " steps", null);
    }
    if (job.state().terminal()) {
      dispatch.dispatchWaiting(job.tenant);
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
      eventLog.log(job, "info", "Worker " + worker + " is reporting again", null);
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
        eventLog.log(job, "warning", "No report from worker " + job.worker + " for " + config.workerLease().toSeconds()
            + " s: the job waits to be resumed from its last checkpoint", null);
      }
    }
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
        eventLog.log(job, "error", "Job failed: " + job.errorMessage, null);
        dispatch.dispatchWaiting(job.tenant);
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

  private static double round(double v) {
    return Math.round(v * 1e6) / 1e6;
  }
}

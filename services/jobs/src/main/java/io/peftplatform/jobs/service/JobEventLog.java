package io.peftplatform.jobs.service;

import io.peftplatform.jobs.Job;
import io.peftplatform.jobs.JobEventEntry;
import io.peftplatform.service.problem.ApiException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/** A job's event log: what users read as its events (messages and metrics), in order. */
@ApplicationScoped
public class JobEventLog {
  private static final SecureRandom RANDOM = new SecureRandom();

  @Inject EntityManager em;

  /** Up to limit + 1 of the job's events after the cursor (an event id of the job's), oldest first. */
  public List<JobEventEntry> page(String jobId, String after, int limit) {
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
  void log(Job job, String level, String message, Map<String, Object> data) {
    entry(job, level, data == null ? "message" : "metrics", message, data);
  }

  /** An event reported by a worker: dated when the worker reported it. */
  void logAt(Job job, Instant at, String level, String message, Map<String, Object> data) {
    entry(job, level, data == null ? "message" : "metrics", message, data).createdAt = at;
  }

  JobEventEntry entry(Job job, String level, String type, String message, Map<String, Object> data) {
    JobEventEntry e = new JobEventEntry();
    byte[] b = new byte[12];
    RANDOM.nextBytes(b);
    e.id = "ftevent-" + HexFormat.of().formatHex(b);
    e.jobId = job.id;
    e.createdAt = Instant.now();
    e.level = level;
    e.type = type;
    e.message = message;
    e.data = data == null ? null : JobJson.write(data);
    e.persist();
    return e;
  }
}

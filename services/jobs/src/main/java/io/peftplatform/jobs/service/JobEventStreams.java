package io.peftplatform.jobs.service;

import io.peftplatform.jobs.Job;
import io.peftplatform.jobs.JobEventEntry;
import io.peftplatform.jobs.JobStatus;
import io.peftplatform.jobs.rest.JobResponses.EventResponse;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.subscription.MultiEmitter;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.transaction.Transactional;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jboss.logging.Logger;

/**
 * Live event streams of jobs without a thread each: every stream registers here, and one poll (two
 * queries, whatever the number of streams) reads the new events of every followed job and hands them
 * to its streams, closing those whose job has ended. Polling the table, not an in-process signal, lets
 * any replica serve a stream whichever replica consumed the job's events.
 */
@ApplicationScoped
public class JobEventStreams {
  private static final Logger LOG = Logger.getLogger(JobEventStreams.class);
  /** The most events handed out per job per poll (a long history streams over a few polls). */
  private static final int BATCH = 1000;

  @Inject EntityManager em;

  private static final class Follower {
    final MultiEmitter<? super EventResponse> emitter;
    long last;

    Follower(MultiEmitter<? super EventResponse> emitter) {
      this.emitter = emitter;
    }
  }

  private final Map<String, List<Follower>> followers = new ConcurrentHashMap<>();

  /** The job's events from the first, then as they happen, until the job ends. */
  public Multi<EventResponse> follow(String jobId) {
    return Multi.createFrom().emitter(emitter -> {
      Follower f = new Follower(emitter);
      followers.computeIfAbsent(jobId, k -> new CopyOnWriteArrayList<>()).add(f);
      emitter.onTermination(() -> followers.computeIfPresent(jobId, (k, list) -> {
        list.remove(f);
        return list.isEmpty() ? null : list;
      }));
    });
  }

  @Scheduled(every = "${peft.schedule.stream-poll:0.5s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
  @Transactional
  void poll() {
    if (followers.isEmpty()) {
      return;
    }
    try {
      Set<String> jobs = Set.copyOf(followers.keySet());
      // Status first, events second: a terminal status commits with its last event, so seeing the status
      // means this read has every event.
      Map<String, Boolean> ended = new HashMap<>();
      for (Object[] row : em.createQuery("SELECT j.id, j.status FROM Job j WHERE j.id IN :ids", Object[].class)
          .setParameter("ids", jobs).getResultList()) {
        ended.put((String) row[0], JobStatus.parse((String) row[1]).terminal());
      }
      long from = Long.MAX_VALUE;
      for (String id : jobs) {
        for (Follower f : followers.getOrDefault(id, List.of())) {
          from = Math.min(from, f.last);
        }
      }
      Map<String, List<JobEventEntry>> fresh = new HashMap<>();
      for (JobEventEntry e : em.createQuery("FROM JobEventEntry WHERE jobId IN :ids AND seq > :from ORDER BY seq", JobEventEntry.class)
          .setParameter("ids", jobs).setParameter("from", from).setMaxResults(BATCH * jobs.size()).getResultList()) {
        fresh.computeIfAbsent(e.jobId, k -> new java.util.ArrayList<>()).add(e);
      }
      for (String id : jobs) {
        List<JobEventEntry> events = fresh.getOrDefault(id, List.of());
        boolean complete = ended.getOrDefault(id, true) && events.size() < BATCH;
        for (Follower f : followers.getOrDefault(id, List.of())) {
          for (JobEventEntry e : events) {
            if (e.seq > f.last) {
              f.emitter.emit(EventResponse.of(e));
              f.last = e.seq;
            }
          }
          if (complete) {
            f.emitter.complete();
          }
        }
      }
    } catch (RuntimeException e) {
      LOG.warnf("event streams: %s (the next poll tries again)", e.getMessage());
    }
  }
}

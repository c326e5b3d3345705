package io.peftplatform.jobs.service;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.peftplatform.jobs.JobStatus;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.transaction.Transactional;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * {@code peft_jobs{status, tenant}}: how many jobs each tenant has in each status, counted every
 * {@code peft.metrics.jobs-interval} (10 s) from the database, so a scrape never waits on it. Every
 * status of a tenant that has jobs is a series (0 included), so a rate or an alert on {@code failed} sees
 * the first failure as a change from 0.
 */
@ApplicationScoped
public class JobMetrics {
  private static final Logger LOG = Logger.getLogger(JobMetrics.class);

  @Inject EntityManager em;
  @Inject MeterRegistry registry;

  private MultiGauge jobs;

  void register(@Observes StartupEvent start) {
    jobs = MultiGauge.builder("peft.jobs").description("Jobs by status and tenant").register(registry);
  }

  @Scheduled(every = "${peft.metrics.jobs-interval:10s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
  void refresh() {
    try {
      Map<String, Map<String, Long>> counts = count();
      List<MultiGauge.Row<?>> rows = new ArrayList<>();
      counts.forEach((tenant, byStatus) -> {
        for (JobStatus s : JobStatus.values()) {
          rows.add(MultiGauge.Row.of(Tags.of("status", s.wire(), "tenant", tenant), byStatus.getOrDefault(s.wire(), 0L)));
        }
      });
      jobs.register(rows, true);
    } catch (RuntimeException e) {
      LOG.debugf("job metrics: %s", e.getMessage()); // the database away: the last counts stay
    }
  }

  /** tenant → status → jobs. */
  @Transactional
  Map<String, Map<String, Long>> count() {
    Map<String, Map<String, Long>> out = new LinkedHashMap<>();
    for (Object[] row : em.createQuery("SELECT j.tenant, j.status, count(j) FROM Job j GROUP BY j.tenant, j.status ORDER BY j.tenant",
        Object[].class).getResultList()) {
      out.computeIfAbsent((String) row[0], t -> new LinkedHashMap<>()).put((String) row[1], ((Number) row[2]).longValue());
    }
    return out;
  }
}

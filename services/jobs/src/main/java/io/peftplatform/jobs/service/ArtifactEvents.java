package io.peftplatform.jobs.service;

import io.peftplatform.events.ArtifactDeleted;
import io.peftplatform.events.DatasetChanged;
import io.peftplatform.events.ModelChanged;
import io.peftplatform.events.PlatformEvent;
import io.peftplatform.jobs.DatasetRef;
import io.peftplatform.jobs.Job;
import io.peftplatform.jobs.ModelRef;
import io.peftplatform.service.inbox.Inbox;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import org.jboss.logging.Logger;

/** The artifacts service's events applied to this service's copies of models and datasets; waiting jobs move on. */
@ApplicationScoped
public class ArtifactEvents {
  private static final Logger LOG = Logger.getLogger(ArtifactEvents.class);

  @Inject Inbox inbox;
  @Inject JobDispatch dispatch;

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
      ref.files = JobJson.write(m.files());
      ref.error = m.error();
      ref.updatedAt = m.time();
      ref.persist();
      dispatch.waitingFor(m.aggregateId()).forEach(dispatch::dispatchIfReady);
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
      ref.file = d.file() == null ? null : JobJson.write(d.file());
      ref.updatedAt = d.time();
      ref.persist();
    } else if (e instanceof ArtifactDeleted d) {
      switch (d.kind()) {
        case "model" -> ModelRef.deleteById(d.aggregateId());
        case "dataset" -> DatasetRef.deleteById(d.aggregateId());
        case "adapter" -> Job.<Job>list("fineTunedModel", d.aggregateId()).forEach(j -> j.adapterFiles = null);
        default -> LOG.warnf("unknown artifact kind %s", d.kind());
      }
      dispatch.waitingFor(d.aggregateId()).forEach(dispatch::dispatchIfReady);
    }
  }
}

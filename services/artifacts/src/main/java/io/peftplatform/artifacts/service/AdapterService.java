package io.peftplatform.artifacts.service;

import io.peftplatform.artifacts.Adapter;
import io.peftplatform.events.ArtifactDeleted;
import io.peftplatform.events.EventCodec;
import io.peftplatform.events.JobSucceeded;
import io.peftplatform.events.ObjectRef;
import io.peftplatform.events.Topics;
import io.peftplatform.service.inbox.Inbox;
import io.peftplatform.service.outbox.Outbox;
import io.peftplatform.service.problem.ApiException;
import io.peftplatform.storage.ObjectLayout;
import io.peftplatform.storage.ObjectStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.time.Instant;
import java.util.Optional;

/**
 * Registers the adapter of every succeeded job, with its lineage read from the run's
 * training_provenance.json (base model and data checksums, configuration, seed, metrics).
 */
@ApplicationScoped
public class AdapterService {
  public static final String PROVENANCE = "training_provenance.json";

  @Inject ObjectStore store;
  @Inject Inbox inbox;
  @Inject Outbox outbox;

  @Transactional
  public void onJobSucceeded(JobSucceeded e) {
    if (!inbox.firstTime(e) || Adapter.findById(Adapter.idForJob(e.aggregateId())) != null) {
      return;
    }
    Adapter a = new Adapter();
    a.id = Adapter.idForJob(e.aggregateId());
    a.tenant = e.tenant();
    a.jobId = e.aggregateId();
    a.modelId = e.modelId();
    a.method = e.method();
    a.parameters = e.trainableParameters();
    a.files = Json.write(e.adapterFiles());
    a.metrics = Json.write(e.metrics());
    a.lineage = e.adapterFiles().stream().filter(f -> ObjectLayout.fileName(f.key()).equals(PROVENANCE)).findFirst()
        .map(f -> store.readText(f.key())).orElse("{}");
    a.createdAt = e.time();
    a.persist();
  }

  public Optional<Adapter> find(String tenant, String id) {
    return Adapter.<Adapter>find("id = ?1 and tenant = ?2", id, tenant).firstResultOptional();
  }

  public Adapter get(String tenant, String id) {
    return find(tenant, id).orElseThrow(() -> ApiException.notFound("no adapter " + id, "id"));
  }

  public Page<Adapter> list(String tenant, String after, int limit) {
    return Page.of(Adapter.class, tenant, after, limit, a -> a.createdAt, a -> a.id);
  }

  public void delete(String tenant, String id) {
    Adapter a = deleteRecord(tenant, id);
    store.deletePrefix(ObjectLayout.adapterPrefix(a.tenant, a.id));
  }

  @Transactional
  Adapter deleteRecord(String tenant, String id) {
    Adapter a = get(tenant, id);
    a.delete();
    outbox.add(Topics.ARTIFACT_EVENTS, new ArtifactDeleted(EventCodec.newId(), Instant.now(), id, tenant, "adapter"));
    return a;
  }
}

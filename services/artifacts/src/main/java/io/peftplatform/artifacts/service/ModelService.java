package io.peftplatform.artifacts.service;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.peftplatform.artifacts.Ids;
import io.peftplatform.artifacts.Model;
import io.peftplatform.artifacts.config.ArtifactsConfig;
import io.peftplatform.events.ArtifactDeleted;
import io.peftplatform.events.EventCodec;
import io.peftplatform.events.ModelChanged;
import io.peftplatform.events.ObjectRef;
import io.peftplatform.events.Topics;
import io.peftplatform.service.outbox.Outbox;
import io.peftplatform.service.problem.ApiException;
import io.peftplatform.service.retry.Transient;
import io.peftplatform.storage.ObjectLayout;
import io.peftplatform.storage.ObjectStore;
import io.peftplatform.storage.ScratchDirectories;
import io.quarkus.hibernate.orm.panache.Panache;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.scheduler.Scheduled;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.persistence.LockModeType;
import jakarta.transaction.Transactional;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * Registers base models. A model starts {@code validating}: its files are gathered in a scratch
 * directory (uploaded, unpacked from an archive, or imported), checked by {@link ModelValidator}, put in
 * the bucket, and the model becomes {@code ready} — or {@code failed} with the reason. Every status is
 * announced with a {@link ModelChanged} event through the outbox.
 */
@ApplicationScoped
public class ModelService {
  private static final Logger LOG = Logger.getLogger(ModelService.class);
  /** Runs of one model's validation before it fails as interrupted. */
  static final int MAX_ATTEMPTS = 3;

  @Inject ArtifactsConfig config;
  @Inject ObjectStore store;
  @Inject ModelValidator validator;
  @Inject ModelImporter importer;
  @Inject Outbox outbox;
  @Inject MeterRegistry registry;

  /** Imports download here, so a slow source never holds up another tenant's validation. */
  private TenantFairExecutor downloads;
  private TenantFairExecutor validations;

  @PostConstruct
  void init() {
    downloads = new TenantFairExecutor(config.validation().importThreads(), "model-import");
    validations = new TenantFairExecutor(config.validation().threads(), "model-validation");
    // peft_model_validation_active / _queued, peft_model_import_active / _queued: the pools' usage.
    for (var pool : Map.of("validation", validations, "import", downloads).entrySet()) {
      Gauge.builder("peft.model." + pool.getKey() + ".active", pool.getValue(), TenantFairExecutor::running)
          .description("Model " + pool.getKey() + "s running").register(registry);
      Gauge.builder("peft.model." + pool.getKey() + ".queued", pool.getValue(), TenantFairExecutor::queued)
          .description("Model " + pool.getKey() + "s waiting for a thread").register(registry);
    }
  }

  /** The models this replica holds: importing, validating, or waiting for either. */
  private java.util.Set<String> held() {
    java.util.Set<String> all = new java.util.HashSet<>(downloads.held());
    all.addAll(validations.held());
    return all;
  }

  /** A file of an upload: its name and where the request spooled it. */
  public record UploadedFile(String name, Path path) {}

  void stop(@Observes ShutdownEvent e) {
    downloads.close();
    validations.close();
  }

  public Model registerUpload(String tenant, String name, List<UploadedFile> files) {
    if (files.isEmpty()) {
      throw ApiException.badRequest("no files uploaded; send the model directory's files in the 'file' field, or one archive in 'archive'", "file");
    }
    var limits = config.limits();
    if (files.size() > limits.archiveEntries()) {
      throw ApiException.tooLarge("a model has at most " + limits.archiveEntries() + " files", "file", "peft.limits.archive-entries",
          limits.archiveEntries());
    }
    long bytes = 0;
    for (UploadedFile f : files) {
      if (!ModelFiles.safeName(f.name()) || !ModelFiles.wanted(f.name())) {
        throw ApiException.badRequest("'" + f.name() + "' is not a model file (config.json, generation_config.json, *.safetensors,"
            + " model.safetensors.index.json, tokenizer.json, tokenizer_config.json, special_tokens_map.json)", "file");
      }
      bytes += size(f.path());
    }
    if (bytes > limits.modelBytes().asLongValue()) {
      throw ApiException.tooLarge("the model's files are larger than " + limits.modelBytes().asLongValue() + " bytes", "file",
          "peft.limits.model-bytes", limits.modelBytes().asLongValue());
    }
    admit(tenant);
    String id = Ids.next("model");
    Path dir = scratch(id);
    try {
      for (UploadedFile f : files) {
        Files.move(f.path(), dir.resolve(f.name()), StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      ScratchDirectories.deleteQuietly(dir);
      throw new UncheckedIOException(e);
    }
    return start(create(id, tenant, name, "upload"));
  }

  /** Unpacks the archive now (refusing it, and storing nothing, if it is not a model's or too large). */
  public Model registerArchive(String tenant, String name, String archiveName, Path archive) {
    admit(tenant);
    String id = Ids.next("model");
    Path dir = scratch(id);
    try (InputStream in = Files.newInputStream(archive)) {
      Archives.extract(in, archiveName, dir, importer.archiveLimits());
    } catch (Archives.TooLarge e) {
      ScratchDirectories.deleteQuietly(dir);
      throw ApiException.tooLarge(e.getMessage(), "archive", e.limitName, e.limitValue);
    } catch (IOException e) {
      ScratchDirectories.deleteQuietly(dir);
      throw ApiException.badRequest(String.valueOf(e.getMessage()), "archive");
    }
    if (!hasFiles(dir)) {
      ScratchDirectories.deleteQuietly(dir);
      throw ApiException.badRequest(archiveName + " holds no model files (config.json, *.safetensors, tokenizer.json, …)", "archive");
    }
    return start(create(id, tenant, name, "upload:" + archiveName));
  }

  public Model registerImport(String tenant, String name, String source) {
    importer.checkSource(tenant, source);
    admit(tenant);
    return start(create(Ids.next("model"), tenant, name, source)); // its download makes the scratch directory
  }

  /** 429 when the tenant already has as many models validating as it may. */
  @Transactional
  void admit(String tenant) {
    int limit = config.limits().pendingModelsPerTenant();
    if (Model.count("tenant = ?1 and status = ?2", tenant, Model.VALIDATING) >= limit) {
      throw ApiException.tooMany("you have " + limit + " models validating or importing; wait for one to finish", null,
          "peft.limits.pending-models-per-tenant", limit);
    }
  }

  private static long size(Path file) {
    try {
      return Files.size(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private Path scratch(String id) {
    try {
      return Files.createDirectories(config.workDir().resolve(id));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Queues the model's validation (after its import, for imports), tenants taking turns. */
  private Model start(Model m) {
    Path dir = config.workDir().resolve(m.id);
    if (m.source.startsWith("upload")) {
      validations.submit(m.tenant, m.id, () -> validate(m.id, dir, false));
    } else {
      downloads.submit(m.tenant, m.id, () -> {
        if (download(m.id, m.tenant, m.source, dir)) {
          validations.submit(m.tenant, m.id, () -> validate(m.id, dir, true));
        }
      });
    }
    return m;
  }

  /** Keeps the leases of the models this replica holds (queued or validating). */
  @Scheduled(every = "${peft.validation.heartbeat:15s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
  @Transactional
  void heartbeat() {
    var held = held();
    if (!held.isEmpty()) {
      Model.update("processingUntil = ?1 where id in ?2 and status = ?3", Instant.now().plus(config.validation().lease()), held,
          Model.VALIDATING);
    }
  }

  /**
   * Takes over models a stopped replica left validating (their lease ran out): an import runs again, an
   * upload whose files are still in this replica's scratch space is validated again; otherwise, or after
   * three attempts, the model fails with the reason.
   */
  @Scheduled(every = "${peft.validation.sweep:20s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
  void takeOverAbandoned() {
    for (Model m : claimAbandoned()) {
      start(m);
    }
  }

  @Transactional
  List<Model> claimAbandoned() {
    List<Model> abandoned = Panache.getEntityManager()
        .createQuery("FROM Model WHERE status = :s AND (processingUntil IS NULL OR processingUntil < :now)", Model.class)
        .setParameter("s", Model.VALIDATING).setParameter("now", Instant.now())
        .setLockMode(LockModeType.PESSIMISTIC_WRITE).setHint("jakarta.persistence.lock.timeout", -2) // SKIP LOCKED
        .setMaxResults(20).getResultList();
    List<Model> resumed = new ArrayList<>();
    for (Model m : abandoned) {
      if (held().contains(m.id)) {
        m.processingUntil = Instant.now().plus(config.validation().lease());
        continue;
      }
      Path dir = config.workDir().resolve(m.id);
      boolean filesHere = m.source.startsWith("upload") && hasFiles(dir);
      if (m.attempts >= MAX_ATTEMPTS) {
        fail(m, "interrupted", "validation was interrupted " + m.attempts + " times; register the model again");
      } else if (!m.source.startsWith("upload") || filesHere) {
        LOG.infof("model %s: taking over its validation (attempt %d)", m.id, m.attempts + 1);
        m.attempts++;
        m.processingUntil = Instant.now().plus(config.validation().lease());
        resumed.add(m);
      } else {
        fail(m, "interrupted", "the service stopped while validating this upload, and its files are gone; upload it again");
      }
    }
    return resumed;
  }

  private static boolean hasFiles(Path dir) {
    try (Stream<Path> files = Files.list(dir)) {
      return files.findAny().isPresent();
    } catch (IOException e) {
      return false;
    }
  }

  @Transactional
  Model create(String id, String tenant, String name, String source) {
    Model m = new Model();
    m.id = id;
    m.tenant = tenant;
    m.name = name == null || name.isBlank() ? m.id : name;
    m.status = Model.VALIDATING;
    m.source = source;
    m.files = "[]";
    m.createdAt = Instant.now();
    m.updatedAt = m.createdAt;
    m.attempts = 1;
    m.processingUntil = m.createdAt.plus(config.validation().lease());
    m.persist();
    announce(m, List.of());
    return m;
  }

  /**
   * Fetches an import into dir; true when it is there to validate. What the source does wrong (refused,
   * missing, too large, unreachable) fails the model with the reason; a stop of the service leaves it to be
   * taken over.
   */
  boolean download(String id, String tenant, String source, Path dir) {
    try {
      if (tenantOf(id).isEmpty()) {
        return false; // deleted meanwhile
      }
      ScratchDirectories.deleteQuietly(dir);
      Files.createDirectories(dir);
      importer.fetch(tenant, source, dir);
      return true;
    } catch (ImportHttp.Refused | Archives.TooLarge e) {
      fail(id, "import_refused", e.getMessage());
    } catch (IOException | RuntimeException e) {
      if (!Thread.currentThread().isInterrupted()) {
        LOG.infof("model %s: import from %s failed: %s", id, source, e.getMessage());
        fail(id, "import_failed", String.valueOf(e.getMessage()));
      }
    }
    ScratchDirectories.deleteQuietly(dir);
    return false;
  }

  /**
   * Validates the files in dir, stores them and marks the model ready, or failed with the reason. A
   * transient failure (storage or database away) leaves the model validating, an upload's files in
   * place: its lease runs out and it is tried again.
   */
  void validate(String id, Path dir, boolean imported) {
    boolean retryLater = false;
    try {
      ModelValidator.Summary summary = validator.validate(dir);
      Optional<String> tenant = tenantOf(id);
      if (tenant.isEmpty()) {
        return; // deleted meanwhile
      }
      List<ObjectRef> refs = new ArrayList<>();
      try (Stream<Path> list = Files.list(dir)) {
        for (Path f : list.sorted().toList()) {
          refs.add(store.put(ObjectLayout.modelPrefix(tenant.get(), id) + f.getFileName(), f));
        }
      }
      ready(id, summary, refs);
    } catch (ModelValidator.InvalidModel e) {
      fail(id, e.code, e.getMessage());
    } catch (Exception e) {
      // Transient, or interrupted because the service is stopping: taken over when the lease runs out.
      if (Transient.is(e) || Thread.currentThread().isInterrupted()) {
        LOG.warnf("model %s: %s; tried again when its lease runs out", id, e.getMessage());
        retryLater = true;
      } else {
        LOG.warnf(e, "model %s failed", id);
        fail(id, "storage_failed", String.valueOf(e.getMessage()));
      }
    } finally {
      if (!retryLater || imported) {
        ScratchDirectories.deleteQuietly(dir);
      }
    }
  }

  @Transactional
  Optional<String> tenantOf(String id) {
    return Model.<Model>findByIdOptional(id).map(m -> m.tenant);
  }

  @Transactional
  void ready(String id, ModelValidator.Summary summary, List<ObjectRef> files) {
    Model m = Model.findById(id);
    if (m == null) {
      return;
    }
    m.status = Model.READY;
    m.processingUntil = null;
    m.architecture = summary.architecture();
    m.parameters = summary.parameters();
    m.files = Json.write(files);
    m.updatedAt = Instant.now();
    announce(m, files);
  }

  /** A model a merge wrote: ready at once (its files came from a validated base), announced like any. */
  @Transactional(Transactional.TxType.MANDATORY)
  void registerMerged(String id, String tenant, String name, String source, String architecture, long parameters,
      List<ObjectRef> files) {
    Model m = new Model();
    m.id = id;
    m.tenant = tenant;
    m.name = name;
    m.status = Model.READY;
    m.source = source;
    m.architecture = architecture;
    m.parameters = parameters;
    m.files = Json.write(files);
    m.createdAt = Instant.now();
    m.updatedAt = m.createdAt;
    m.persist();
    announce(m, files);
  }

  @Transactional
  void fail(String id, String code, String message) {
    Model m = Model.findById(id);
    if (m != null) {
      fail(m, code, message);
    }
  }

  private void fail(Model m, String code, String message) {
    m.status = Model.FAILED;
    m.processingUntil = null;
    m.errorCode = code;
    m.errorMessage = message;
    m.updatedAt = Instant.now();
    announce(m, List.of());
  }

  private void announce(Model m, List<ObjectRef> files) {
    outbox.add(Topics.ARTIFACT_EVENTS, new ModelChanged(EventCodec.newId(), Instant.now(), m.id, m.tenant, m.name, m.status,
        m.architecture, files, m.errorMessage));
  }

  public Optional<Model> find(String tenant, String id) {
    return Model.<Model>find("id = ?1 and tenant = ?2", id, tenant).firstResultOptional();
  }

  public Model get(String tenant, String id) {
    return find(tenant, id).orElseThrow(() -> ApiException.notFound("no model " + id, "id"));
  }

  public Page<Model> list(String tenant, String after, int limit) {
    return Page.of(Model.class, tenant, after, limit, m -> m.createdAt, m -> m.id);
  }

  /** Deletes the record now (with its event) and the bytes after. */
  public void delete(String tenant, String id) {
    Model m = deleteRecord(tenant, id);
    store.deletePrefix(ObjectLayout.modelPrefix(m.tenant, m.id));
  }

  @Transactional
  Model deleteRecord(String tenant, String id) {
    Model m = get(tenant, id);
    m.delete();
    outbox.add(Topics.ARTIFACT_EVENTS, new ArtifactDeleted(EventCodec.newId(), Instant.now(), id, tenant, "model"));
    return m;
  }

  public List<ObjectRef> files(Model m) {
    return Json.refs(m.files);
  }
}

package io.peftplatform.artifacts.service;

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
import io.peftplatform.storage.ObjectLayout;
import io.peftplatform.storage.ScratchDirectories;
import io.peftplatform.storage.ObjectStore;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
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
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
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

  @Inject ArtifactsConfig config;
  @Inject ObjectStore store;
  @Inject ModelValidator validator;
  @Inject ModelImporter importer;
  @Inject Outbox outbox;

  private final ExecutorService background = Executors.newFixedThreadPool(2, r -> {
    Thread t = new Thread(r, "model-validation");
    t.setDaemon(true);
    return t;
  });

  /** A file of an upload: its name and where the request spooled it. */
  public record UploadedFile(String name, Path path) {}

  /** Models left validating by a previous process will never finish: mark them failed. */
  @Transactional
  void recover(@Observes StartupEvent e) {
    List<Model> stuck = Model.list("status", Model.VALIDATING);
    for (Model m : stuck) {
      fail(m, "interrupted", "the service restarted while validating this model; register it again");
    }
  }

  void stop(@Observes ShutdownEvent e) {
    background.shutdownNow();
  }

  public Model registerUpload(String tenant, String name, List<UploadedFile> files) {
    if (files.isEmpty()) {
      throw ApiException.badRequest("no files uploaded; send the model directory's files in the 'file' field, or one archive in 'archive'", "file");
    }
    for (UploadedFile f : files) {
      if (!ModelFiles.safeName(f.name()) || !ModelFiles.wanted(f.name())) {
        throw ApiException.badRequest("'" + f.name() + "' is not a model file (config.json, generation_config.json, *.safetensors,"
            + " model.safetensors.index.json, tokenizer.json, tokenizer_config.json, special_tokens_map.json)", "file");
      }
    }
    Model model = create(tenant, name, "upload");
    Path dir = scratch(model.id);
    try {
      for (UploadedFile f : files) {
        Files.move(f.path(), dir.resolve(f.name()), StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    background.submit(() -> process(model.id, dir, null));
    return model;
  }

  public Model registerArchive(String tenant, String name, String archiveName, Path archive) {
    Model model = create(tenant, name, "upload:" + archiveName);
    Path dir = scratch(model.id);
    try (InputStream in = Files.newInputStream(archive)) {
      Archives.extract(in, archiveName, dir);
    } catch (IOException e) {
      fail(model.id, "invalid_archive", e.getMessage());
      return Model.findById(model.id);
    }
    background.submit(() -> process(model.id, dir, null));
    return model;
  }

  public Model registerImport(String tenant, String name, String source) {
    ModelImporter.checkSource(source);
    Model model = create(tenant, name, source);
    Path dir = scratch(model.id);
    background.submit(() -> process(model.id, dir, source));
    return model;
  }

  private Path scratch(String id) {
    try {
      return Files.createDirectories(config.workDir().resolve(id));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Transactional
  Model create(String tenant, String name, String source) {
    Model m = new Model();
    m.id = Ids.next("model");
    m.tenant = tenant;
    m.name = name == null || name.isBlank() ? m.id : name;
    m.status = Model.VALIDATING;
    m.source = source;
    m.files = "[]";
    m.createdAt = Instant.now();
    m.updatedAt = m.createdAt;
    m.persist();
    announce(m, List.of());
    return m;
  }

  /** Fetch (imports), validate, upload, and mark ready or failed. Runs in the background. */
  void process(String id, Path dir, String importSource) {
    try {
      if (importSource != null) {
        importer.fetch(importSource, dir);
      }
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
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      fail(id, "interrupted", "validation was interrupted");
    } catch (Exception e) {
      LOG.warnf(e, "model %s failed", id);
      fail(id, importSource != null ? "import_failed" : "storage_failed", String.valueOf(e.getMessage()));
    } finally {
      ScratchDirectories.deleteQuietly(dir);
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

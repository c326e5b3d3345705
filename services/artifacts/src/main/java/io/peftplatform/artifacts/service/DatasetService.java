package io.peftplatform.artifacts.service;

import com.fasterxml.jackson.databind.JsonNode;
import io.peftplatform.artifacts.Dataset;
import io.peftplatform.artifacts.Ids;
import io.peftplatform.artifacts.config.ArtifactsConfig;
import io.peftplatform.events.ArtifactDeleted;
import io.peftplatform.events.DatasetChanged;
import io.peftplatform.events.EventCodec;
import io.peftplatform.events.ObjectRef;
import io.peftplatform.events.Topics;
import io.peftplatform.service.outbox.Outbox;
import io.peftplatform.service.problem.ApiException;
import io.peftplatform.service.problem.Problem;
import io.peftplatform.storage.ObjectLayout;
import io.peftplatform.storage.ObjectStore;
import io.peftplatform.text.dataset.BoundedLineReader;
import io.peftplatform.text.dataset.DatasetException;
import io.peftplatform.text.dataset.JsonlReader;
import io.peftplatform.text.dataset.TrainingRecord;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Registers JSONL datasets. The upload is read once, line by line, into a scratch file: every record is
 * validated as it streams in (the three forms, one per file), rows and a token estimate counted, the
 * first records kept as a preview. Bad lines are reported with their numbers (up to 100) and nothing is
 * stored; a valid file goes to the bucket and is ready at once.
 */
@ApplicationScoped
public class DatasetService {
  static final int MAX_REPORTED_ERRORS = 100;
  static final int PREVIEW_ROWS = 5;

  @Inject ArtifactsConfig config;
  @Inject ObjectStore store;
  @Inject Outbox outbox;

  public Dataset upload(String tenant, String name, InputStream body) {
    String id = Ids.next("file");
    Path scratch;
    try {
      scratch = Files.createDirectories(config.workDir()).resolve(id + ".jsonl");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try {
      Scan scan = scan(body, scratch);
      ObjectRef ref = store.put(ObjectLayout.datasetKey(tenant, id), scratch);
      return save(tenant, id, name, scan, ref);
    } finally {
      try {
        Files.deleteIfExists(scratch);
      } catch (IOException ignored) {
        // scratch space
      }
    }
  }

  /** What a pass over the upload found. */
  record Scan(String format, long rows, long tokenEstimate, long bytes, List<String> preview) {}

  Scan scan(InputStream body, Path scratch) {
    var decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
    List<Problem.FieldError> errors = new ArrayList<>();
    long errorCount = 0;
    String form = null;
    long formLine = 0;
    long rows = 0;
    long chars = 0;
    long bytes = 0;
    List<String> preview = new ArrayList<>();
    long lineNumber = 0;
    long maxBytes = config.limits().datasetBytes().asLongValue();
    try (BoundedLineReader in = new BoundedLineReader(new InputStreamReader(body, decoder), config.limits().datasetLineChars());
         BufferedWriter out = Files.newBufferedWriter(scratch, StandardCharsets.UTF_8)) {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        lineNumber++;
        bytes += utf8Length(line) + 1;
        if (bytes > maxBytes) {
          throw ApiException.tooLarge("the dataset is larger than " + maxBytes + " bytes", "file", "peft.limits.dataset-bytes", maxBytes);
        }
        out.write(line);
        out.write('\n');
        if (line.isBlank()) {
          continue;
        }
        try {
          TrainingRecord r = JsonlReader.parseLine("data.jsonl", lineNumber, line);
          if (form == null) {
            form = r.form();
            formLine = lineNumber;
          } else if (!form.equals(r.form())) {
            throw new DatasetException("data.jsonl", lineNumber, null,
                "is a " + r.form() + " record but line " + formLine + " is a " + form + " record; use one form per file");
          }
          rows++;
          chars += line.length();
          if (preview.size() < PREVIEW_ROWS) {
            preview.add(line);
          }
        } catch (DatasetException e) {
          errorCount++;
          if (errors.size() < MAX_REPORTED_ERRORS) {
            errors.add(new Problem.FieldError(e.field() == null ? "line" : e.field(), e.problem(), e.line()));
          }
        }
      }
    } catch (BoundedLineReader.LineTooLong e) {
      throw ApiException.tooLarge("line " + e.line() + " is longer than " + e.limit() + " characters", "file",
          "peft.limits.dataset-line-chars", e.limit());
    } catch (CharacterCodingException e) {
      throw new ApiException(400, "line " + (lineNumber + 1) + " is not valid UTF-8", "file");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (errorCount > 0) {
      throw new ApiException(400, errorCount + " of " + lineNumber + " lines are invalid" + (errorCount > errors.size()
          ? " (the first " + errors.size() + " are listed)" : ""), "file", errors);
    }
    if (rows == 0) {
      throw new ApiException(400, "the dataset has no records", "file");
    }
    String format = switch (form) {
      case "prompt/completion" -> "prompt_completion";
      case "prompt/chosen/rejected" -> "prompt_chosen_rejected";
      default -> form;
    };
    return new Scan(format, rows, Math.max(1, chars / 4), bytes, preview);
  }

  private static long utf8Length(String s) {
    long n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        n++;
      } else if (c < 0x800) {
        n += 2;
      } else if (Character.isHighSurrogate(c)) {
        n += 4;
        i++;
      } else {
        n += 3;
      }
    }
    return n;
  }

  @Transactional
  Dataset save(String tenant, String id, String name, Scan scan, ObjectRef ref) {
    Dataset d = new Dataset();
    d.id = id;
    d.tenant = tenant;
    d.name = name == null || name.isBlank() ? id : name;
    d.status = "ready";
    d.format = scan.format();
    d.rows = scan.rows();
    d.tokenEstimate = scan.tokenEstimate();
    d.objectKey = ref.key();
    d.sha256 = ref.sha256();
    d.bytes = ref.bytes();
    List<JsonNode> preview = scan.preview().stream().map(Json::tree).toList();
    d.preview = Json.write(preview);
    d.createdAt = Instant.now();
    d.persist();
    outbox.add(Topics.ARTIFACT_EVENTS, new DatasetChanged(EventCodec.newId(), d.createdAt, d.id, tenant, d.name, d.status,
        d.format, d.rows, ref, null));
    return d;
  }

  public Optional<Dataset> find(String tenant, String id) {
    return Dataset.<Dataset>find("id = ?1 and tenant = ?2", id, tenant).firstResultOptional();
  }

  public Dataset get(String tenant, String id) {
    return find(tenant, id).orElseThrow(() -> ApiException.notFound("no file " + id, "id"));
  }

  public Page<Dataset> list(String tenant, String after, int limit) {
    return Page.of(Dataset.class, tenant, after, limit, d -> d.createdAt, d -> d.id);
  }

  public void delete(String tenant, String id) {
    Dataset d = deleteRecord(tenant, id);
    store.delete(d.objectKey);
  }

  @Transactional
  Dataset deleteRecord(String tenant, String id) {
    Dataset d = get(tenant, id);
    d.delete();
    outbox.add(Topics.ARTIFACT_EVENTS, new ArtifactDeleted(EventCodec.newId(), Instant.now(), id, tenant, "dataset"));
    return d;
  }
}

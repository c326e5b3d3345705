package io.peftplatform.artifacts.service;

import com.fasterxml.jackson.databind.JsonNode;
import io.peftplatform.artifacts.config.ArtifactsConfig;
import io.peftplatform.service.problem.ApiException;
import io.peftplatform.storage.ObjectStore;
import io.peftplatform.storage.StorageConfig;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import okhttp3.HttpUrl;

/**
 * Fetches a model directory from where a user points: {@code hf://org/name[@revision]} (the Hub's file
 * list and resolve URLs, under the configured endpoint), an {@code https://} archive (tar, tar.gz, zip),
 * or {@code s3://bucket/prefix} in a bucket the operator allowed. Every source is a tenant's choice, so
 * each is held to the import policy: public addresses only ({@link ImportHttp}), allowed buckets only and
 * never another tenant's objects, at most the model size limit and the import time limit.
 */
@ApplicationScoped
public class ModelImporter {
  static final Pattern HF = Pattern.compile("hf://([\\w.-]+/[\\w.-]+)(?:@([\\w./-]+))?");
  static final Pattern S3 = Pattern.compile("s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(.*)");
  /** The largest Hub file list read (a repository with thousands of files lists in a few MB). */
  private static final long MAX_LISTING_BYTES = 16L << 20;

  @Inject ArtifactsConfig config;

  private ImportHttp http;

  @PostConstruct
  void init() {
    http = new ImportHttp(config.hf().endpoint(), config.hf().token().orElse(null),
        config.imports().trustedHosts().orElse(List.of()), config.imports().maxRedirects());
  }

  /**
   * Checks a source before anything is fetched: its form, and what can be judged without the network
   * (scheme, address literals, allowed buckets). 400 naming {@code source} otherwise.
   */
  public void checkSource(String tenant, String source) {
    try {
      check(tenant, source);
    } catch (ImportHttp.Refused e) {
      throw ApiException.badRequest(e.getMessage(), "source");
    }
  }

  private void check(String tenant, String source) throws ImportHttp.Refused {
    if (source == null) {
      throw invalid(null);
    }
    Matcher s3 = S3.matcher(source);
    try {
      if (HF.matcher(source).matches()) {
        return;
      } else if (s3.matches()) {
        checkS3(tenant, s3.group(1), s3.group(2));
      } else if (source.startsWith("https://") && HttpUrl.parse(source) != null) {
        http.checkUrl(HttpUrl.get(source));
      } else {
        throw invalid(source);
      }
    } catch (ImportHttp.Refused e) {
      throw e.getMessage().startsWith("source must be") ? e : new ImportHttp.Refused("cannot import from " + source + ": " + e.getMessage());
    }
  }

  private static ImportHttp.Refused invalid(String source) {
    return new ImportHttp.Refused("source must be hf://org/name[@revision], an https:// URL of a tar or zip archive,"
        + " or s3://bucket/prefix; got '" + source + "'");
  }

  /**
   * s3:// sources: the platform's bucket only under the caller's own prefix (or an operator-allowed part
   * outside every tenant's), any other bucket only as allowed in {@code peft.imports.s3-allowed}.
   */
  void checkS3(String tenant, String bucket, String prefix) throws ImportHttp.Refused {
    String p = listingPrefix(prefix);
    if (p.contains("//") || ("/" + p).contains("/../") || ("/" + p).contains("/./")) {
      throw new ImportHttp.Refused("the prefix may not contain empty, '.' or '..' segments");
    }
    if (platformBucket(bucket) && p.startsWith("tenants/")) {
      if (p.startsWith("tenants/" + tenant + "/")) {
        return;
      }
      throw new ImportHttp.Refused("s3://" + bucket + "/tenants/ holds the platform's tenants' data; only your own (tenants/"
          + tenant + "/) can be imported from it");
    }
    for (String allowed : config.imports().s3Allowed().orElse(List.of())) {
      String entry = allowed.trim();
      int slash = entry.indexOf('/');
      String allowedBucket = slash < 0 ? entry : entry.substring(0, slash);
      String allowedPrefix = slash < 0 ? "" : listingPrefix(entry.substring(slash + 1));
      if (allowedBucket.equals(bucket) && p.startsWith(allowedPrefix)) {
        return;
      }
    }
    throw new ImportHttp.Refused("s3://" + bucket + "/" + prefix + " is not in a bucket imports may read"
        + " (an operator allows them in peft.imports.s3-allowed)");
  }

  private boolean platformBucket(String bucket) {
    String endpoint = config.imports().s3Endpoint().orElse(config.storage().endpoint());
    return bucket.equals(config.storage().bucket()) && endpoint.equals(config.storage().endpoint());
  }

  private static String listingPrefix(String prefix) {
    return prefix.isEmpty() || prefix.endsWith("/") ? prefix : prefix + "/";
  }

  /** Downloads the model's files into dir, within the import's limits. */
  public void fetch(String tenant, String source, Path dir) throws IOException {
    check(tenant, source);
    ImportHttp.Budget budget = new ImportHttp.Budget(config.imports().timeout(), config.limits().modelBytes().asLongValue(),
        "peft.limits.model-bytes");
    Matcher hf = HF.matcher(source);
    Matcher s3 = S3.matcher(source);
    if (hf.matches()) {
      fetchHub(hf.group(1), hf.group(2) == null ? "main" : hf.group(2), dir, budget);
    } else if (s3.matches()) {
      fetchS3(s3.group(1), s3.group(2), dir, budget);
    } else {
      Path archive = dir.resolveSibling(dir.getFileName() + ".archive");
      try {
        http.download(HttpUrl.get(source), archive, budget);
        try (InputStream in = Files.newInputStream(archive)) {
          Archives.extract(in, source, dir, archiveLimits());
        }
      } finally {
        Files.deleteIfExists(archive);
      }
    }
  }

  /** The limits archives are unpacked within (uploads and imports alike). */
  Archives.Limits archiveLimits() {
    var l = config.limits();
    return new Archives.Limits(l.archiveEntries(), l.modelBytes().asLongValue(), l.archiveRatio());
  }

  private void fetchHub(String repo, String revision, Path dir, ImportHttp.Budget budget) throws IOException {
    HttpUrl base = http.hub();
    HttpUrl listing = base.newBuilder().addPathSegments("api/models").addPathSegments(repo).addPathSegment("revision")
        .addPathSegment(revision).build();
    JsonNode siblings = Json.tree(http.getText(listing, budget, MAX_LISTING_BYTES)).path("siblings");
    List<String> files = new ArrayList<>();
    for (JsonNode s : siblings) {
      String name = s.path("rfilename").asText();
      if (ModelFiles.wanted(name) && ModelFiles.safeName(name)) {
        files.add(name);
      }
    }
    if (files.isEmpty()) {
      throw new IOException(repo + "@" + revision + " has no config.json, safetensors or tokenizer files");
    }
    if (files.size() > config.limits().archiveEntries()) {
      throw new ImportHttp.Refused(repo + " has more than " + config.limits().archiveEntries() + " model files (peft.limits.archive-entries)");
    }
    for (String name : files) {
      HttpUrl file = base.newBuilder().addPathSegments(repo).addPathSegment("resolve").addPathSegment(revision)
          .addPathSegment(name).build();
      http.download(file, dir.resolve(name), budget);
    }
  }

  private void fetchS3(String bucket, String prefix, Path dir, ImportHttp.Budget budget) throws IOException {
    var s = config.storage();
    var i = config.imports();
    ObjectStore source = new ObjectStore(new StorageConfig(i.s3Endpoint().orElse(s.endpoint()), i.s3AccessKey().orElse(s.accessKey()),
        i.s3SecretKey().orElse(s.secretKey()), bucket));
    String p = listingPrefix(prefix);
    int files = 0;
    for (String key : source.list(p)) {
      String name = key.substring(p.length());
      if (!name.contains("/") && ModelFiles.wanted(name) && ModelFiles.safeName(name)) {
        if (++files > config.limits().archiveEntries()) {
          throw new ImportHttp.Refused("s3://" + bucket + "/" + p + " has more than " + config.limits().archiveEntries()
              + " model files (peft.limits.archive-entries)");
        }
        budget.add(source.size(key).orElse(0L));
        budget.remainingMillis();
        source.get(key, dir.resolve(name));
      }
    }
  }
}

package io.peftplatform.artifacts.service;

import com.fasterxml.jackson.databind.JsonNode;
import io.peftplatform.artifacts.config.ArtifactsConfig;
import io.peftplatform.service.problem.ApiException;
import io.peftplatform.storage.ObjectStore;
import io.peftplatform.storage.StorageConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Fetches a model directory from where a user points: {@code hf://org/name[@revision]} (the Hub's file
 * list and resolve URLs, under the configured endpoint), an {@code https://} archive (tar, tar.gz, zip),
 * or {@code s3://bucket/prefix} on the platform's object store.
 */
@ApplicationScoped
public class ModelImporter {
  static final Pattern HF = Pattern.compile("hf://([\\w.-]+/[\\w.-]+)(?:@([\\w./-]+))?");
  static final Pattern S3 = Pattern.compile("s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(.*)");

  @Inject ArtifactsConfig config;

  private final HttpClient http = HttpClient.newBuilder()
      .followRedirects(HttpClient.Redirect.NORMAL)
      .connectTimeout(Duration.ofSeconds(20))
      .build();

  /** Checks a source's syntax; 400 naming {@code source} when it is not one of the three forms. */
  public static void checkSource(String source) {
    if (source == null || !(HF.matcher(source).matches() || S3.matcher(source).matches() || source.startsWith("https://"))) {
      throw ApiException.badRequest("source must be hf://org/name[@revision], an https:// URL of a tar or zip archive,"
          + " or s3://bucket/prefix; got '" + source + "'", "source");
    }
  }

  /** Downloads the model's files into dir. */
  public void fetch(String source, Path dir) throws IOException, InterruptedException {
    Matcher hf = HF.matcher(source);
    Matcher s3 = S3.matcher(source);
    if (hf.matches()) {
      fetchHub(hf.group(1), hf.group(2) == null ? "main" : hf.group(2), dir);
    } else if (s3.matches()) {
      fetchS3(s3.group(1), s3.group(2), dir);
    } else {
      Path archive = dir.resolveSibling(dir.getFileName() + ".archive");
      download(URI.create(source), archive);
      try (InputStream in = Files.newInputStream(archive)) {
        Archives.extract(in, source, dir);
      } finally {
        Files.deleteIfExists(archive);
      }
    }
  }

  private void fetchHub(String repo, String revision, Path dir) throws IOException, InterruptedException {
    String base = config.hf().endpoint().replaceAll("/+$", "");
    URI listing = URI.create(base + "/api/models/" + repo + "/revision/" + URLEncoder.encode(revision, StandardCharsets.UTF_8));
    HttpResponse<String> r = http.send(request(listing), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException("the Hub answered " + r.statusCode() + " for " + repo + "@" + revision
          + (r.statusCode() == 401 || r.statusCode() == 403 ? " (gated or private: set HF_TOKEN)" : ""));
    }
    JsonNode siblings = Json.tree(r.body()).path("siblings");
    List<String> files = new ArrayList<>();
    siblings.forEach(s -> {
      String name = s.path("rfilename").asText();
      if (ModelFiles.wanted(name)) {
        files.add(name);
      }
    });
    if (files.isEmpty()) {
      throw new IOException(repo + "@" + revision + " has no config.json, safetensors or tokenizer files");
    }
    for (String name : files) {
      download(URI.create(base + "/" + repo + "/resolve/" + URLEncoder.encode(revision, StandardCharsets.UTF_8) + "/" + name), dir.resolve(name));
    }
  }

  private void fetchS3(String bucket, String prefix, Path dir) {
    var s = config.storage();
    ObjectStore source = new ObjectStore(new StorageConfig(s.endpoint(), s.accessKey(), s.secretKey(), bucket));
    String p = prefix.isEmpty() || prefix.endsWith("/") ? prefix : prefix + "/";
    for (String key : source.list(p)) {
      String name = key.substring(p.length());
      if (!name.contains("/") && ModelFiles.wanted(name)) {
        source.get(key, dir.resolve(name));
      }
    }
  }

  private HttpRequest request(URI uri) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(30));
    config.hf().token().ifPresent(t -> b.header("Authorization", "Bearer " + t));
    return b.build();
  }

  private void download(URI uri, Path target) throws IOException, InterruptedException {
    Files.createDirectories(target.toAbsolutePath().getParent());
    Path part = target.resolveSibling(target.getFileName() + ".part");
    HttpResponse<Path> r = http.send(request(uri), HttpResponse.BodyHandlers.ofFile(part));
    if (r.statusCode() != 200) {
      Files.deleteIfExists(part);
      throw new IOException("GET " + uri + " answered " + r.statusCode());
    }
    Files.move(part, target, StandardCopyOption.REPLACE_EXISTING);
  }
}

package io.peftplatform.infra;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * An S3 API server over a local folder: s3proxy with its filesystem store, run as a child JVM. Real
 * MinIO takes its place in docker-compose and Kubernetes.
 */
public final class S3Server implements EmbeddedServer {
  private final ChildProcess process;
  private final int port;
  private final String accessKey;
  private final String secretKey;

  private S3Server(ChildProcess process, int port, String accessKey, String secretKey) {
    this.process = process;
    this.port = port;
    this.accessKey = accessKey;
    this.secretKey = secretKey;
  }

  /** Starts a server storing objects under {@code dataDir}/objects; port 0 picks a free one. */
  public static S3Server start(Path dataDir, int port, String accessKey, String secretKey) {
    int p = port == 0 ? ChildProcess.freePort() : port;
    Path config = dataDir.resolve("s3proxy.conf");
    try {
      // The objects are tenants' data and the configuration holds the secret key: owner-only, both.
      PrivateFiles.directory(dataDir);
      Files.createDirectories(dataDir.resolve("objects"));
      PrivateFiles.write(config, String.join("\n",
          "s3proxy.endpoint=http://127.0.0.1:" + p,
          "s3proxy.authorization=aws-v2-or-v4",
          "s3proxy.identity=" + accessKey,
          "s3proxy.credential=" + secretKey,
          "s3proxy.cors-allow-all=true",
          "jclouds.provider=filesystem",
          "jclouds.filesystem.basedir=" + dataDir.resolve("objects").toAbsolutePath()) + "\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    String jar = ChildProcess.buildPaths().getProperty("s3proxy.jar");
    ChildProcess child = ChildProcess.startJava("s3proxy", List.of("-Xmx256m", "-XX:+UseSerialGC", "-DLOG_LEVEL=warn",
        "-jar", jar, "--properties", config.toString()), dataDir.resolve("s3proxy.log"));
    S3Server server = new S3Server(child, p, accessKey, secretKey);
    child.awaitReady(server::answers, Duration.ofSeconds(60));
    return server;
  }

  private boolean answers() {
    if (!ChildProcess.portOpen(port)) {
      return false;
    }
    try {
      HttpResponse<Void> r = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create(endpoint() + "/")).timeout(Duration.ofSeconds(2)).build(),
          HttpResponse.BodyHandlers.discarding());
      return r.statusCode() > 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  @Override
  public boolean isRunning() {
    return process.isAlive();
  }

  public int port() {
    return port;
  }

  /** Kills the server at once (SIGKILL), as a crash would. */
  @Override
  public void kill() {
    process.kill();
  }

  public String endpoint() {
    return "http://127.0.0.1:" + port;
  }

  public String accessKey() {
    return accessKey;
  }

  public String secretKey() {
    return secretKey;
  }

  @Override
  public void close() {
    process.close();
  }
}

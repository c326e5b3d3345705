package io.peftplatform.stack;

import io.peftplatform.infra.ChildProcess;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** One service of the stack: its Quarkus application as a child JVM, logging to a file, ready when its health says so. */
final class ServiceProcess implements AutoCloseable, Supervisor.Part {
  private final String name;
  private final int port;
  private final ChildProcess process;

  private ServiceProcess(String name, int port, ChildProcess process) {
    this.name = name;
    this.port = port;
    this.process = process;
  }

  /**
   * @param application the service's target/quarkus-app directory
   */
  static ServiceProcess start(String name, Path application, List<String> jvmOptions, Map<String, String> env, int port, Path logDir) {
    Path runner = application.resolve("quarkus-run.jar");
    if (!Files.isRegularFile(runner)) {
      throw new IllegalStateException(runner + " is missing: build the services first (./mvnw -DskipTests install)");
    }
    List<String> args = new ArrayList<>(jvmOptions);
    args.add("-jar");
    args.add(runner.toString());
    return new ServiceProcess(name, port, ChildProcess.startJava(name, args, env, logDir.resolve(name + ".log")));
  }

  /** Waits until it is ready: it serves, and what it needs (database, broker) answers it. */
  void awaitReady(Duration timeout) {
    process.awaitReady(() -> healthy("ready", 2000), timeout);
  }

  /** Waits until it serves (after a restart: what it needs may still be coming back). */
  void awaitLive(Duration timeout) {
    process.awaitReady(() -> healthy("live", 2000), timeout);
  }

  /** Its liveness check answers UP (given a few seconds: a worker may have every core busy training). */
  @Override
  public boolean live() {
    return healthy("live", 5000);
  }

  private boolean healthy(String check, int readTimeoutMillis) {
    try {
      HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + "/q/health/" + check).toURL().openConnection();
      c.setConnectTimeout(500);
      c.setReadTimeout(readTimeoutMillis);
      try {
        return c.getResponseCode() == 200;
      } finally {
        c.disconnect();
      }
    } catch (IOException e) {
      return false;
    }
  }

  String name() {
    return name;
  }

  int port() {
    return port;
  }

  @Override
  public boolean isAlive() {
    return process.isAlive();
  }

  /** Kills the process at once, as a crash or an out-of-memory kill would. */
  @Override
  public void kill() {
    process.kill();
  }

  @Override
  public void close() {
    process.close();
  }
}

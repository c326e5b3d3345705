package io.peftplatform.infra;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * A single-node Kafka broker in KRaft mode (broker and controller in one process), run from the Kafka
 * jars as a child JVM. Its data survives restarts when started on the same directory.
 */
public final class KafkaBroker implements EmbeddedServer {
  private final ChildProcess process;
  private final int port;

  private KafkaBroker(ChildProcess process, int port) {
    this.process = process;
    this.port = port;
  }

  /** Starts a broker keeping its log in {@code dataDir}; port 0 picks a free one. */
  public static KafkaBroker start(Path dataDir, int port) {
    int brokerPort = port == 0 ? ChildProcess.freePort() : port;
    int controllerPort = ChildProcess.freePort();
    Path logs = dataDir.resolve("logs");
    Path config = dataDir.resolve("server.properties");
    Properties p = new Properties();
    p.putAll(Map.ofEntries(
        Map.entry("process.roles", "broker,controller"),
        Map.entry("node.id", "1"),
        Map.entry("controller.quorum.voters", "1@127.0.0.1:" + controllerPort),
        Map.entry("listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort),
        Map.entry("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort),
        Map.entry("controller.listener.names", "CONTROLLER"),
        Map.entry("inter.broker.listener.name", "PLAINTEXT"),
        Map.entry("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"),
        Map.entry("log.dirs", logs.toAbsolutePath().toString()),
        Map.entry("num.partitions", "3"),
        Map.entry("offsets.topic.replication.factor", "1"),
        Map.entry("offsets.topic.num.partitions", "3"),
        Map.entry("transaction.state.log.replication.factor", "1"),
        Map.entry("transaction.state.log.min.isr", "1"),
        Map.entry("share.coordinator.state.topic.replication.factor", "1"),
        Map.entry("group.initial.rebalance.delay.ms", "0"),
        Map.entry("auto.create.topics.enable", "true"),
        Map.entry("log.cleaner.dedupe.buffer.size", "8388608"),
        // After a crash the restarted broker re-registers once its old session has lapsed: keep that short.
        Map.entry("broker.session.timeout.ms", "2000"),
        Map.entry("broker.heartbeat.interval.ms", "500")));
    try {
      Files.createDirectories(dataDir);
      try (var out = Files.newBufferedWriter(config)) {
        p.store(out, "written by io.peftplatform.infra.KafkaBroker");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    String classpath = ChildProcess.buildPaths().getProperty("kafka.lib") + "/*";
    Path log = dataDir.resolve("kafka.log");
    if (!Files.exists(logs.resolve("meta.properties"))) {
      // A new log directory is formatted once with a cluster id; later starts reuse it.
      try (ChildProcess format = ChildProcess.startJava("kafka-storage-format", List.of("-Xmx128m", "-cp", classpath,
          "kafka.tools.StorageTool", "format", "-t", uuidBase64(), "-c", config.toString()), log)) {
        int code = format.awaitExit(Duration.ofSeconds(60));
        if (code != 0 || !Files.exists(logs.resolve("meta.properties"))) {
          throw new IllegalStateException("formatting Kafka's log directory failed (exit " + code + "):\n" + format.tail());
        }
      }
    }
    ChildProcess broker = ChildProcess.startJava("kafka", List.of("-Xmx256m", "-XX:+UseSerialGC", "-cp", classpath,
        "kafka.Kafka", config.toString()), log);
    KafkaBroker b = new KafkaBroker(broker, brokerPort);
    broker.awaitReady(b::answers, Duration.ofSeconds(90));
    return b;
  }

  /** A cluster id as Kafka makes them: 16 random bytes, URL-safe base64, never starting with '-' (read as an option). */
  private static String uuidBase64() {
    while (true) {
      UUID u = UUID.randomUUID();
      java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(16);
      buf.putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits());
      String id = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(buf.array());
      if (!id.startsWith("-")) {
        return id;
      }
    }
  }


  private boolean answers() {
    if (!ChildProcess.portOpen(port)) {
      return false;
    }
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
        AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2000, AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3000))) {
      return !admin.describeCluster().nodes().get(3, TimeUnit.SECONDS).isEmpty();
    } catch (ExecutionException | TimeoutException | RuntimeException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  public String bootstrapServers() {
    return "127.0.0.1:" + port;
  }

  @Override
  public boolean isRunning() {
    return process.isAlive();
  }

  /** The port clients reach it at (a restart on the same directory may reuse it). */
  public int port() {
    return port;
  }

  /** Kills the broker at once (SIGKILL), as a crash would. */
  @Override
  public void kill() {
    process.kill();
  }

  @Override
  public void close() {
    process.close();
  }
}

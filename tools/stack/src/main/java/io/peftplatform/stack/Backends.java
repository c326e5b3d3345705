package io.peftplatform.stack;

import io.peftplatform.infra.EmbeddedServer;
import io.peftplatform.infra.KafkaBroker;
import io.peftplatform.infra.Postgres;
import io.peftplatform.infra.S3Server;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Kafka, S3 and PostgreSQL for a stack: the external ones the environment names, otherwise embedded ones
 * keeping their data under the stack's data directory. {@link #environment()} is what every service is
 * given to reach them.
 *
 * <p>External: {@code PEFT_KAFKA_BOOTSTRAP}; {@code PEFT_S3_ENDPOINT} with {@code PEFT_S3_ACCESS_KEY},
 * {@code PEFT_S3_SECRET_KEY} (and {@code PEFT_S3_BUCKET}); {@code PEFT_JOBS_DB_URL} with
 * {@code PEFT_ARTIFACTS_DB_URL} (and {@code PEFT_DB_USER}, {@code PEFT_DB_PASSWORD}).
 */
final class Backends implements AutoCloseable {
  private final Map<String, String> environment = new LinkedHashMap<>();
  private final Map<String, String> origin = new LinkedHashMap<>();
  private volatile KafkaBroker kafka;
  private volatile S3Server s3;
  private volatile Postgres postgres;
  private Path dataDir;
  private StackState state;

  static Backends start(Path dataDir, StackState state, Map<String, String> env, Consumer<String> say) {
    Backends b = new Backends();
    b.dataDir = dataDir;
    b.state = state;
    try {
      b.startKafka(dataDir, env, say);
      b.startS3(dataDir, state, env, say);
      b.startPostgres(dataDir, env, say);
      return b;
    } catch (RuntimeException e) {
      b.close();
      throw e;
    }
  }

  private void startKafka(Path dataDir, Map<String, String> env, Consumer<String> say) {
    String external = env.get("PEFT_KAFKA_BOOTSTRAP");
    if (present(external)) {
      environment.put("PEFT_KAFKA_BOOTSTRAP", external);
      origin.put("Kafka", external + " (PEFT_KAFKA_BOOTSTRAP)");
      return;
    }
    say.accept("starting Kafka (KRaft)…");
    kafka = KafkaBroker.start(dataDir.resolve("kafka"), 0);
    environment.put("PEFT_KAFKA_BOOTSTRAP", kafka.bootstrapServers());
    origin.put("Kafka", kafka.bootstrapServers() + " (embedded)");
  }

  private void startS3(Path dataDir, StackState state, Map<String, String> env, Consumer<String> say) {
    String external = env.get("PEFT_S3_ENDPOINT");
    String bucket = present(env.get("PEFT_S3_BUCKET")) ? env.get("PEFT_S3_BUCKET") : "peft";
    environment.put("PEFT_S3_BUCKET", bucket);
    if (present(external)) {
      for (String required : new String[] {"PEFT_S3_ACCESS_KEY", "PEFT_S3_SECRET_KEY"}) {
        if (!present(env.get(required))) {
          throw new IllegalArgumentException("PEFT_S3_ENDPOINT is set, so " + required + " must be too");
        }
      }
      environment.put("PEFT_S3_ENDPOINT", external);
      environment.put("PEFT_S3_ACCESS_KEY", env.get("PEFT_S3_ACCESS_KEY"));
      environment.put("PEFT_S3_SECRET_KEY", env.get("PEFT_S3_SECRET_KEY"));
      origin.put("S3", external + " bucket " + bucket + " (PEFT_S3_ENDPOINT)");
      return;
    }
    say.accept("starting the S3 server (s3proxy)…");
    s3 = S3Server.start(dataDir.resolve("s3"), 0, state.get("s3-access-key"), state.get("s3-secret-key"));
    environment.put("PEFT_S3_ENDPOINT", s3.endpoint());
    environment.put("PEFT_S3_ACCESS_KEY", s3.accessKey());
    environment.put("PEFT_S3_SECRET_KEY", s3.secretKey());
    origin.put("S3", s3.endpoint() + " bucket " + bucket + " (embedded, files in " + dataDir.resolve("s3") + ")");
  }

  private void startPostgres(Path dataDir, Map<String, String> env, Consumer<String> say) {
    String jobs = env.get("PEFT_JOBS_DB_URL");
    String artifacts = env.get("PEFT_ARTIFACTS_DB_URL");
    if (present(jobs) || present(artifacts)) {
      if (!present(jobs) || !present(artifacts)) {
        throw new IllegalArgumentException("set both PEFT_JOBS_DB_URL and PEFT_ARTIFACTS_DB_URL (one database per service), or neither");
      }
      environment.put("PEFT_JOBS_DB_URL", jobs);
      environment.put("PEFT_ARTIFACTS_DB_URL", artifacts);
      environment.put("PEFT_DB_USER", env.getOrDefault("PEFT_DB_USER", "postgres"));
      environment.put("PEFT_DB_PASSWORD", env.getOrDefault("PEFT_DB_PASSWORD", "postgres"));
      origin.put("PostgreSQL", jobs + ", " + artifacts + " (PEFT_*_DB_URL)");
      return;
    }
    say.accept("starting PostgreSQL…");
    postgres = Postgres.start(dataDir.resolve("postgres"), 0);
    environment.put("PEFT_JOBS_DB_URL", postgres.database("jobs"));
    environment.put("PEFT_ARTIFACTS_DB_URL", postgres.database("artifacts"));
    environment.put("PEFT_DB_USER", Postgres.USER);
    environment.put("PEFT_DB_PASSWORD", "postgres");
    origin.put("PostgreSQL", "127.0.0.1:" + postgres.port() + " databases jobs, artifacts (embedded)");
  }

  /**
   * The embedded backends, for the supervisor: each with how to start it again on the same address and
   * data (a restart after a crash). External backends are someone else's to keep running.
   */
  void supervise(Supervisor supervisor) {
    if (kafka != null) {
      int port = kafka.port();
      supervisor.add("kafka", () -> part(kafka = KafkaBroker.start(dataDir.resolve("kafka"), port)), part(kafka));
    }
    if (s3 != null) {
      int port = s3.port();
      supervisor.add("s3", () -> part(s3 = S3Server.start(dataDir.resolve("s3"), port, state.get("s3-access-key"), state.get("s3-secret-key"))),
          part(s3));
    }
    if (postgres != null) {
      int port = postgres.port();
      supervisor.add("postgres", () -> part(postgres = Postgres.start(dataDir.resolve("postgres"), port)), part(postgres));
    }
  }

  private static Supervisor.Part part(EmbeddedServer server) {
    return new Supervisor.Part() {
      public boolean isAlive() {
        return server.isRunning();
      }

      public void kill() {
        server.kill();
      }

      public void close() {
        server.close();
      }
    };
  }

  private static boolean present(String v) {
    return v != null && !v.isBlank();
  }

  Map<String, String> environment() {
    return Map.copyOf(environment);
  }

  /** What each backend is and where, for the banner. */
  Map<String, String> origin() {
    return java.util.Collections.unmodifiableMap(origin);
  }

  @Override
  public void close() {
    for (AutoCloseable c : new AutoCloseable[] {postgres, s3, kafka}) {
      if (c != null) {
        try {
          c.close();
        } catch (Exception ignored) {
          // stopping: go on with the rest
        }
      }
    }
  }
}

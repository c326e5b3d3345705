package io.peftplatform.testsupport;

import io.peftplatform.infra.KafkaBroker;
import io.peftplatform.infra.Postgres;
import io.peftplatform.infra.S3Server;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The servers of one test JVM, each started on first use and shared by every test class after that
 * (they stop with the JVM). Set PEFT_TEST_KAFKA_BOOTSTRAP, or PEFT_TEST_S3_ENDPOINT with
 * PEFT_TEST_S3_ACCESS_KEY / PEFT_TEST_S3_SECRET_KEY, to use servers started elsewhere instead.
 */
public final class SharedInfra {
  private static Path root;
  private static KafkaBroker kafka;
  private static S3Server s3;
  private static Postgres postgres;

  private SharedInfra() {}

  private static synchronized Path root() {
    if (root == null) {
      try {
        root = Files.createTempDirectory("peft-test-infra");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return root;
  }

  public static synchronized String kafkaBootstrap() {
    String external = System.getenv("PEFT_TEST_KAFKA_BOOTSTRAP");
    if (external != null && !external.isBlank()) {
      return external;
    }
    if (kafka == null) {
      kafka = KafkaBroker.start(root().resolve("kafka"), 0);
      io.peftplatform.events.TopicSetup.ensure(kafka.bootstrapServers(), 3, (short) 1);
    }
    return kafka.bootstrapServers();
  }

  /** {endpoint, access key, secret key}. */
  public static synchronized String[] s3() {
    String external = System.getenv("PEFT_TEST_S3_ENDPOINT");
    if (external != null && !external.isBlank()) {
      return new String[] {external, System.getenv("PEFT_TEST_S3_ACCESS_KEY"), System.getenv("PEFT_TEST_S3_SECRET_KEY")};
    }
    if (s3 == null) {
      s3 = S3Server.start(root().resolve("s3"), 0, "peft-test", "peft-test-secret");
    }
    return new String[] {s3.endpoint(), s3.accessKey(), s3.secretKey()};
  }

  public static synchronized Postgres postgres() {
    if (postgres == null) {
      postgres = Postgres.start(root().resolve("pg"), 0);
      Postgres started = postgres;
      Runtime.getRuntime().addShutdownHook(new Thread(started::close, "stop-postgres"));
    }
    return postgres;
  }
}

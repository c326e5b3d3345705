package io.peftplatform.infra;

import static org.assertj.core.api.Assertions.assertThat;

import io.minio.BucketExistsArgs;
import io.minio.GetObjectArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each embedded server starts and does its job with a real client. */
class EmbeddedInfraTest {
  @TempDir Path dir;

  @Test
  void kafkaBrokerDeliversAMessageAndSurvivesARestart() throws Exception {
    try (KafkaBroker broker = KafkaBroker.start(dir.resolve("kafka"), 0)) {
      try (var producer = new KafkaProducer<String, String>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()),
          new StringSerializer(), new StringSerializer())) {
        producer.send(new ProducerRecord<>("test-topic", "job-1", "hello")).get();
      }
      assertThat(consumeOne(broker.bootstrapServers())).isEqualTo("job-1=hello");
    }
    try (KafkaBroker again = KafkaBroker.start(dir.resolve("kafka"), 0)) {
      assertThat(consumeOne(again.bootstrapServers())).as("the log directory persists").isEqualTo("job-1=hello");
    }
  }

  private static String consumeOne(String bootstrap) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "g-" + System.nanoTime());
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    try (var consumer = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
      consumer.subscribe(List.of("test-topic"));
      long deadline = System.currentTimeMillis() + 30_000;
      while (System.currentTimeMillis() < deadline) {
        for (var r : consumer.poll(Duration.ofMillis(500))) {
          return r.key() + "=" + r.value();
        }
      }
    }
    return null;
  }

  @Test
  void s3ServerStoresAndReturnsObjects() throws Exception {
    try (S3Server s3 = S3Server.start(dir.resolve("s3"), 0, "peft", "peft-secret")) {
      // The configuration holds the secret key and the folder holds the objects: owner-only.
      assertThat(java.nio.file.Files.getPosixFilePermissions(dir.resolve("s3/s3proxy.conf")))
          .isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
      assertThat(java.nio.file.Files.getPosixFilePermissions(dir.resolve("s3")))
          .isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
      MinioClient client = MinioClient.builder().endpoint(s3.endpoint()).credentials(s3.accessKey(), s3.secretKey()).build();
      client.makeBucket(MakeBucketArgs.builder().bucket("peft").build());
      assertThat(client.bucketExists(BucketExistsArgs.builder().bucket("peft").build())).isTrue();
      byte[] body = "weights".getBytes(StandardCharsets.UTF_8);
      client.putObject(PutObjectArgs.builder().bucket("peft").object("models/a/config.json")
          .stream(new ByteArrayInputStream(body), body.length, -1).build());
      try (var in = client.getObject(GetObjectArgs.builder().bucket("peft").object("models/a/config.json").build())) {
        assertThat(in.readAllBytes()).isEqualTo(body);
      }
    }
  }

  @Test
  void postgresCreatesADatabasePerService() throws Exception {
    try (Postgres pg = Postgres.start(dir.resolve("pg"), 0)) {
      String url = pg.database("jobs");
      assertThat(pg.database("jobs")).isEqualTo(url);
      try (var c = DriverManager.getConnection(url, Postgres.USER, ""); ResultSet r = c.createStatement().executeQuery("SELECT version()")) {
        assertThat(r.next()).isTrue();
        assertThat(r.getString(1)).startsWith("PostgreSQL 14");
      }
    }
  }

  /** Killed with clients connected and a transaction open, as a crash would, it starts again on its data: committed rows kept, the open one gone. */
  @Test
  void postgresKilledMidTransactionStartsAgainOnItsData() throws Exception {
    Postgres pg = Postgres.start(dir.resolve("pg-crash"), 0);
    int port = pg.port();
    String url = pg.database("jobs");
    var idle = DriverManager.getConnection(url, Postgres.USER, "");
    var open = DriverManager.getConnection(url, Postgres.USER, "");
    try (var c = DriverManager.getConnection(url, Postgres.USER, "")) {
      c.createStatement().execute("CREATE TABLE t (v INT)");
      c.createStatement().execute("INSERT INTO t VALUES (1)");
    }
    open.setAutoCommit(false);
    open.createStatement().execute("INSERT INTO t VALUES (2)");
    pg.kill();
    assertThat(pg.isRunning()).isFalse();
    pg.close(); // what is left of it, as the stack's supervisor does before starting it again
    try (Postgres again = Postgres.start(dir.resolve("pg-crash"), port);
        var c = DriverManager.getConnection(again.jdbcUrl("jobs"), Postgres.USER, "");
        ResultSet r = c.createStatement().executeQuery("SELECT array_agg(v) FROM t")) {
      assertThat(r.next()).isTrue();
      assertThat(r.getString(1)).isEqualTo("{1}");
    } finally {
      idle.close();
      open.close();
    }
  }
}

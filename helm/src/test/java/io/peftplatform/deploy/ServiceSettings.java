package io.peftplatform.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The environment variables a service reads: the placeholders in its application.properties, and the shared ones. */
final class ServiceSettings {
  static final Path ROOT = Path.of("").toAbsolutePath().getParent();
  private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([A-Z][A-Z0-9_]*)");
  /** Read by every service through service-common (peft.kafka.*), and by the JVM or ND4J. */
  private static final Set<String> SHARED = Set.of("PEFT_KAFKA_PARTITIONS", "PEFT_KAFKA_REPLICATION", "PEFT_KAFKA_CREATE_TOPICS",
      "JAVA_OPTS", "OMP_NUM_THREADS");

  private ServiceSettings() {}

  static Set<String> readBy(String service) {
    Set<String> names = new TreeSet<>(SHARED);
    // Its own application.properties, and the defaults every service shares (service-common's).
    for (Path properties : List.of(ROOT.resolve("services").resolve(service).resolve("src/main/resources/application.properties"),
        ROOT.resolve("shared-libs/service-common/src/main/resources/META-INF/microprofile-config.properties"))) {
      try {
        Matcher m = PLACEHOLDER.matcher(Files.readString(properties));
        while (m.find()) {
          names.add(m.group(1));
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return names;
  }

  /** The HTTP port a service listens on by default (quarkus.http.port's default in its application.properties). */
  static int port(String service) {
    Path properties = ROOT.resolve("services").resolve(service).resolve("src/main/resources/application.properties");
    try {
      Matcher m = Pattern.compile("(?m)^quarkus\\.http\\.port=\\$\\{[A-Z_]+:([0-9]+)}$").matcher(Files.readString(properties));
      if (!m.find()) {
        throw new IllegalStateException("no quarkus.http.port in " + properties);
      }
      return Integer.parseInt(m.group(1));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** What a service cannot run without outside a laptop (their defaults point at localhost). */
  static Set<String> required(String service) {
    return switch (service) {
      case "jobs" -> Set.of("PEFT_KAFKA_BOOTSTRAP", "PEFT_INTERNAL_TOKEN", "PEFT_JOBS_DB_URL", "PEFT_DB_USER", "PEFT_DB_PASSWORD",
          "PEFT_ARTIFACTS_URL", "PEFT_TRAINING_URL");
      case "artifacts" -> Set.of("PEFT_KAFKA_BOOTSTRAP", "PEFT_INTERNAL_TOKEN", "PEFT_ARTIFACTS_DB_URL", "PEFT_DB_USER", "PEFT_DB_PASSWORD",
          "PEFT_S3_ENDPOINT", "PEFT_S3_ACCESS_KEY", "PEFT_S3_SECRET_KEY");
      case "training" -> Set.of("PEFT_KAFKA_BOOTSTRAP", "PEFT_INTERNAL_TOKEN", "PEFT_S3_ENDPOINT", "PEFT_S3_ACCESS_KEY", "PEFT_S3_SECRET_KEY");
      case "merging" -> Set.of("PEFT_KAFKA_BOOTSTRAP", "PEFT_S3_ENDPOINT", "PEFT_S3_ACCESS_KEY", "PEFT_S3_SECRET_KEY");
      default -> throw new IllegalArgumentException(service);
    };
  }
}

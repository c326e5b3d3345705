package io.peftplatform.deploy;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** The chart, rendered by real Helm (helm-java), as the documents Kubernetes would receive. */
final class Charts {
  static final Path DIR = ServiceSettings.ROOT.resolve("helm/peft-platform");
  static final Helm CHART = new Helm(DIR);
  /** YAML with duplicate keys refused: a strict API client (kubectl apply) refuses them too. */
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION));

  static {
    FakeKubernetesApi.get(); // lookup() asks the cluster for what a previous install left
  }

  private Charts() {}

  /** A release named peft in namespace ml, with the backends every render needs. */
  static TemplateCommand withBackends() {
    return withBackends("peft");
  }

  static TemplateCommand withBackends(String release) {
    return CHART.template().withName(release).withNamespace("ml")
        .set("kafka.bootstrapServers", "kafka.kafka:9092")
        .set("s3.endpoint", "http://minio.minio:9000")
        .set("s3.accessKey", "ak").set("s3.secretKey", "sk")
        .set("postgres.jobsUrl", "jdbc:postgresql://pg:5432/jobs")
        .set("postgres.artifactsUrl", "jdbc:postgresql://pg:5432/artifacts")
        .set("postgres.password", "pw");
  }

  static List<JsonNode> render(TemplateCommand command) throws IOException {
    List<JsonNode> docs = new ArrayList<>();
    try (YAMLParser parser = ((YAMLFactory) YAML.getFactory()).createParser(command.call())) {
      for (var it = YAML.readValues(parser, JsonNode.class); it.hasNext(); ) {
        JsonNode doc = it.next();
        if (doc != null && !doc.isEmpty()) {
          docs.add(doc);
        }
      }
    }
    return docs;
  }

  static JsonNode find(List<JsonNode> docs, String kind, String name) {
    return docs.stream().filter(d -> kind(d).equals(kind) && name(d).equals(name))
        .findFirst().orElseThrow(() -> new AssertionError("no " + kind + " " + name));
  }

  static List<JsonNode> ofKind(List<JsonNode> docs, String kind) {
    return docs.stream().filter(d -> kind(d).equals(kind)).toList();
  }

  static String kind(JsonNode doc) {
    return doc.path("kind").asText();
  }

  static String name(JsonNode doc) {
    return doc.path("metadata").path("name").asText();
  }

  /** Every values file the chart ships beside values.yaml (values-production.yaml, …). */
  static List<Path> extraValuesFiles() {
    try (Stream<Path> files = Files.list(DIR)) {
      return files.filter(p -> p.getFileName().toString().matches("values-.+\\.ya?ml")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

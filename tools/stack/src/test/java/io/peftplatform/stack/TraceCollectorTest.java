package io.peftplatform.stack;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HexFormat;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The stack's trace collector over HTTP, as the services' OTLP exporters and a person use it: protobuf
 * exports in (plain or gzip), traces out as JSON, found by job id or trace id; anything else refused.
 */
class TraceCollectorTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String TRACE = "0af7651916cd43dd8448eb211c80319c";
  private final TraceCollector collector = TraceCollector.start(0);
  private final HttpClient http = HttpClient.newHttpClient();

  @AfterEach
  void stop() {
    collector.close();
  }

  static ExportTraceServiceRequest export(String service, String spanId, String parentId, String name, Span.SpanKind kind, String key,
      String value) {
    Span.Builder span = Span.newBuilder().setTraceId(ByteString.copyFrom(HexFormat.of().parseHex(TRACE)))
        .setSpanId(ByteString.copyFrom(HexFormat.of().parseHex(spanId))).setName(name).setKind(kind)
        .setStartTimeUnixNano(1_000_000_000L).setEndTimeUnixNano(1_250_000_000L)
        .addAttributes(KeyValue.newBuilder().setKey(key).setValue(AnyValue.newBuilder().setStringValue(value)));
    if (parentId != null) {
      span.setParentSpanId(ByteString.copyFrom(HexFormat.of().parseHex(parentId)));
    }
    return ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans.newBuilder()
        .setResource(Resource.newBuilder().addAttributes(KeyValue.newBuilder().setKey("service.name")
            .setValue(AnyValue.newBuilder().setStringValue(service))))
        .addScopeSpans(ScopeSpans.newBuilder().addSpans(span))).build();
  }

  HttpResponse<String> post(byte[] body, boolean gzip) throws Exception {
    HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(collector.otlpEndpoint() + "/v1/traces"))
        .header("Content-Type", "application/x-protobuf");
    if (gzip) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try (GZIPOutputStream z = new GZIPOutputStream(out)) {
        z.write(body);
      }
      body = out.toByteArray();
      r.header("Content-Encoding", "gzip");
    }
    return http.send(r.POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> get(String pathAndQuery) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(collector.otlpEndpoint() + pathAndQuery)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void exportsComeInAndTracesGoOutByJobAndById() throws Exception {
    assertThat(post(export("jobs", "00f067aa0ba902b7", null, "POST /v1/fine_tuning/jobs", Span.SpanKind.SPAN_KIND_SERVER,
        "peft.job_id", "ftjob-1").toByteArray(), false).statusCode()).isEqualTo(200);
    assertThat(post(export("training", "b9c7c989f97918e1", "00f067aa0ba902b7", "training job", Span.SpanKind.SPAN_KIND_INTERNAL,
        "peft.tenant", "acme").toByteArray(), true).statusCode()).isEqualTo(200);

    JsonNode byJob = JSON.readTree(get("/traces?job_id=ftjob-1").body());
    assertThat(byJob.path("data")).hasSize(1);
    JsonNode spans = byJob.path("data").get(0).path("spans");
    assertThat(spans).hasSize(2);
    assertThat(spans.get(0).path("service").asText()).isEqualTo("jobs");
    assertThat(spans.get(0).path("kind").asText()).isEqualTo("server");
    assertThat(spans.get(0).path("duration_ms").asDouble()).isEqualTo(250.0);
    assertThat(spans.get(1).path("parent_span_id").asText()).isEqualTo("00f067aa0ba902b7");
    assertThat(spans.get(1).path("attributes").path("peft.tenant").asText()).isEqualTo("acme");
    assertThat(JSON.readTree(get("/traces?job_id=ftjob-2").body()).path("data")).isEmpty();

    JsonNode one = JSON.readTree(get("/traces/" + TRACE).body());
    assertThat(one.path("spans")).hasSize(2);
    JsonNode latest = JSON.readTree(get("/traces").body()).path("data").get(0);
    assertThat(latest.path("root").asText()).isEqualTo("jobs: POST /v1/fine_tuning/jobs");
    assertThat(latest.path("services").toString()).isEqualTo("[\"jobs\",\"training\"]");
    assertThat(get("/traces/ffffffffffffffffffffffffffffffff").statusCode()).isEqualTo(404);
  }

  @Test
  void whatIsNotAnExportIsRefused() throws Exception {
    assertThat(post("not protobuf at all".getBytes(), false).statusCode()).isEqualTo(400);
    assertThat(get("/v1/traces").statusCode()).isEqualTo(405);
    assertThat(collector.tracesAbout("anything")).isEmpty();
  }
}

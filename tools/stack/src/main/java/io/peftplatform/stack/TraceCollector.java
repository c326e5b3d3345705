package io.peftplatform.stack;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.zip.GZIPInputStream;

/**
 * The local stack's trace collector: the services send their spans here over OTLP/HTTP (protobuf, at
 * {@code /v1/traces}), as they would to an OpenTelemetry collector in a cluster, and it keeps the most
 * recent ones in memory to be read as JSON:
 *
 * <ul>
 *   <li>{@code GET /traces}: the latest traces, newest first, a line each (root span, services, spans);
 *   <li>{@code GET /traces?job_id=ftjob-…} (or {@code merge_id}, or {@code key}: an event's aggregate id):
 *       the traces that touched that job, every span in start order;
 *   <li>{@code GET /traces/<trace id>}: one trace's spans.
 * </ul>
 *
 * It listens on the loopback interface only, and keeps at most {@link #MAX_SPANS} spans: the oldest traces
 * go first. A cluster sends its traces to a real collector (Jaeger, Tempo) instead: {@code PEFT_OTLP_ENDPOINT}.
 */
public final class TraceCollector implements AutoCloseable {
  static final int MAX_SPANS = 50_000;
  private static final long MAX_BODY = 32L << 20;
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final HexFormat HEX = HexFormat.of();

  /** One finished span, as the collector keeps it. */
  public record StoredSpan(String traceId, String spanId, String parentSpanId, String service, String name, String kind,
      long startNanos, long endNanos, String status, Map<String, String> attributes) {
    public double durationMs() {
      return (endNanos - startNanos) / 1e6;
    }
  }

  /** A trace's spans by arrival, in insertion order of the traces (oldest first). */
  private final LinkedHashMap<String, List<StoredSpan>> traces = new LinkedHashMap<>();
  private int spanCount;
  private final HttpServer server;

  private TraceCollector(HttpServer server) {
    this.server = server;
  }

  /** Starts a collector on the loopback interface ({@code port} 0: a free one). */
  public static TraceCollector start(int port) {
    try {
      HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 16);
      TraceCollector c = new TraceCollector(server);
      server.createContext("/v1/traces", c::receive);
      server.createContext("/traces", c::query);
      server.setExecutor(Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "trace-collector");
        t.setDaemon(true);
        return t;
      }));
      server.start();
      return c;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the trace collector: " + e.getMessage(), e);
    }
  }

  public int port() {
    return server.getAddress().getPort();
  }

  /** Where services send spans (OTLP/HTTP; the exporter adds {@code /v1/traces}). */
  public String otlpEndpoint() {
    return "http://127.0.0.1:" + port();
  }

  /** Where a person reads them. */
  public String url() {
    return "http://localhost:" + port() + "/traces";
  }

  private void receive(HttpExchange ex) throws IOException {
    try (ex) {
      if (!ex.getRequestMethod().equals("POST")) {
        respond(ex, 405, "text/plain", "POST OTLP/HTTP protobuf here".getBytes(StandardCharsets.UTF_8));
        return;
      }
      ExportTraceServiceRequest request;
      try (InputStream body = body(ex)) {
        request = ExportTraceServiceRequest.parseFrom(body);
      } catch (IOException | RuntimeException e) {
        respond(ex, 400, "text/plain", ("not an OTLP trace export: " + e.getMessage()).getBytes(StandardCharsets.UTF_8));
        return;
      }
      add(request);
      respond(ex, 200, "application/x-protobuf", ExportTraceServiceResponse.getDefaultInstance().toByteArray());
    }
  }

  private static InputStream body(HttpExchange ex) throws IOException {
    InputStream in = new BoundedInputStream(ex.getRequestBody(), MAX_BODY);
    String encoding = ex.getRequestHeaders().getFirst("Content-Encoding");
    return "gzip".equalsIgnoreCase(encoding) ? new BoundedInputStream(new GZIPInputStream(in), MAX_BODY) : in;
  }

  /** Keeps the spans of one export. */
  synchronized void add(ExportTraceServiceRequest request) {
    for (ResourceSpans rs : request.getResourceSpansList()) {
      String service = serviceName(rs.getResource());
      for (ScopeSpans ss : rs.getScopeSpansList()) {
        for (io.opentelemetry.proto.trace.v1.Span s : ss.getSpansList()) {
          Map<String, String> attributes = new TreeMap<>();
          for (KeyValue kv : s.getAttributesList()) {
            attributes.put(kv.getKey(), text(kv.getValue()));
          }
          String traceId = HEX.formatHex(s.getTraceId().toByteArray());
          StoredSpan span = new StoredSpan(traceId, HEX.formatHex(s.getSpanId().toByteArray()),
              s.getParentSpanId().isEmpty() ? null : HEX.formatHex(s.getParentSpanId().toByteArray()), service, s.getName(),
              s.getKind().name().replace("SPAN_KIND_", "").toLowerCase(java.util.Locale.ROOT), s.getStartTimeUnixNano(),
              s.getEndTimeUnixNano(), s.getStatus().getCode().name().replace("STATUS_CODE_", "").toLowerCase(java.util.Locale.ROOT),
              attributes);
          traces.computeIfAbsent(traceId, k -> new ArrayList<>()).add(span);
          spanCount++;
        }
      }
    }
    Iterator<Map.Entry<String, List<StoredSpan>>> oldest = traces.entrySet().iterator();
    while (spanCount > MAX_SPANS && oldest.hasNext()) {
      spanCount -= oldest.next().getValue().size();
      oldest.remove();
    }
  }

  /** The spans of one trace in start order (empty when unknown). */
  public synchronized List<StoredSpan> trace(String traceId) {
    List<StoredSpan> spans = new ArrayList<>(traces.getOrDefault(traceId, List.of()));
    spans.sort(Comparator.comparingLong(StoredSpan::startNanos));
    return spans;
  }

  /** Every trace kept, oldest first. */
  public synchronized List<String> traceIds() {
    return new ArrayList<>(traces.keySet());
  }

  /** The ids of the traces with a span about {@code id} (a job's, a merge's: its attribute or an event's key). */
  public synchronized List<String> tracesAbout(String id) {
    List<String> out = new ArrayList<>();
    traces.forEach((traceId, spans) -> {
      if (spans.stream().anyMatch(s -> about(s, id))) {
        out.add(traceId);
      }
    });
    return out;
  }

  private static boolean about(StoredSpan s, String id) {
    Map<String, String> a = s.attributes();
    return id.equals(a.get("peft.job_id")) || id.equals(a.get("peft.merge_id")) || id.equals(a.get("messaging.kafka.message.key"));
  }

  private void query(HttpExchange ex) throws IOException {
    try (ex) {
      if (!ex.getRequestMethod().equals("GET")) {
        respond(ex, 405, "text/plain", "GET only".getBytes(StandardCharsets.UTF_8));
        return;
      }
      String path = ex.getRequestURI().getPath();
      Map<String, String> params = params(ex.getRequestURI().getRawQuery());
      Object body;
      if (path.startsWith("/traces/") && path.length() > "/traces/".length()) {
        String traceId = path.substring("/traces/".length());
        List<StoredSpan> spans = trace(traceId);
        if (spans.isEmpty()) {
          respond(ex, 404, "application/json", JSON.writeValueAsBytes(Map.of("error", "no trace " + traceId)));
          return;
        }
        body = Map.of("trace_id", traceId, "spans", spans.stream().map(TraceCollector::view).toList());
      } else {
        String about = params.getOrDefault("job_id", params.getOrDefault("merge_id", params.get("key")));
        if (about != null) {
          body = Map.of("data", tracesAbout(about).stream()
              .map(id -> Map.of("trace_id", id, "spans", trace(id).stream().map(TraceCollector::view).toList())).toList());
        } else {
          body = Map.of("data", summaries());
        }
      }
      respond(ex, 200, "application/json", JSON.writeValueAsBytes(body));
    }
  }

  private synchronized List<Map<String, Object>> summaries() {
    List<Map<String, Object>> out = new ArrayList<>();
    List<String> ids = new ArrayList<>(traces.keySet());
    for (int i = ids.size() - 1; i >= 0 && out.size() < 100; i--) {
      List<StoredSpan> spans = trace(ids.get(i));
      StoredSpan root = spans.stream().filter(s -> s.parentSpanId() == null).findFirst().orElse(spans.get(0));
      Map<String, Object> line = new LinkedHashMap<>();
      line.put("trace_id", ids.get(i));
      line.put("root", root.service() + ": " + root.name());
      line.put("services", spans.stream().map(StoredSpan::service).distinct().toList());
      line.put("spans", spans.size());
      line.put("start_ms", root.startNanos() / 1_000_000);
      line.put("duration_ms", (spans.stream().mapToLong(StoredSpan::endNanos).max().orElse(0) - root.startNanos()) / 1e6);
      out.add(line);
    }
    return out;
  }

  private static Map<String, Object> view(StoredSpan s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("span_id", s.spanId());
    m.put("parent_span_id", s.parentSpanId());
    m.put("service", s.service());
    m.put("name", s.name());
    m.put("kind", s.kind());
    m.put("start_ms", s.startNanos() / 1_000_000);
    m.put("duration_ms", s.durationMs());
    m.put("status", s.status());
    m.put("attributes", s.attributes());
    return m;
  }

  private static String serviceName(Resource r) {
    for (KeyValue kv : r.getAttributesList()) {
      if (kv.getKey().equals("service.name")) {
        return text(kv.getValue());
      }
    }
    return "unknown";
  }

  private static String text(AnyValue v) {
    return switch (v.getValueCase()) {
      case STRING_VALUE -> v.getStringValue();
      case INT_VALUE -> String.valueOf(v.getIntValue());
      case BOOL_VALUE -> String.valueOf(v.getBoolValue());
      case DOUBLE_VALUE -> String.valueOf(v.getDoubleValue());
      default -> v.toString().strip();
    };
  }

  private static Map<String, String> params(String rawQuery) {
    Map<String, String> out = new LinkedHashMap<>();
    if (rawQuery == null) {
      return out;
    }
    for (String pair : rawQuery.split("&")) {
      int eq = pair.indexOf('=');
      if (eq > 0) {
        out.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8), URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    return out;
  }

  private static void respond(HttpExchange ex, int status, String type, byte[] body) throws IOException {
    ex.getResponseHeaders().set("Content-Type", type);
    ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      ex.getResponseBody().write(body);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }

  /** Refuses a body longer than the collector takes (a span export is small). */
  private static final class BoundedInputStream extends java.io.FilterInputStream {
    private long left;

    BoundedInputStream(InputStream in, long max) {
      super(in);
      this.left = max;
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0 && --left < 0) {
        throw new IOException("export larger than " + MAX_BODY + " bytes");
      }
      return b;
    }

    @Override
    public int read(byte[] buf, int off, int len) throws IOException {
      int n = super.read(buf, off, len);
      if (n > 0 && (left -= n) < 0) {
        throw new IOException("export larger than " + MAX_BODY + " bytes");
      }
      return n;
    }
  }
}

package io.peftplatform.service.tracing;

import static org.assertj.core.api.Assertions.assertThat;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.jboss.logging.MDC;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The trace context's way through an event, with the OpenTelemetry SDK (W3C propagation) and the spans
 * kept in a list: from a request's span into an outbox row's traceparent, from there into a record's
 * headers under a producer span, and out of them into a consumer span that is current (and in the MDC)
 * while the event is handled. Untraced events make no spans.
 */
class EventTracingTest {
  private final List<SpanData> finished = new CopyOnWriteArrayList<>();
  private SdkTracerProvider provider;
  private EventTracing tracing;

  @BeforeEach
  void sdk() {
    SpanExporter keep = new SpanExporter() {
      public CompletableResultCode export(Collection<SpanData> spans) {
        finished.addAll(spans);
        return CompletableResultCode.ofSuccess();
      }

      public CompletableResultCode flush() {
        return CompletableResultCode.ofSuccess();
      }

      public CompletableResultCode shutdown() {
        return CompletableResultCode.ofSuccess();
      }
    };
    provider = SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(keep)).build();
    tracing = new EventTracing(OpenTelemetrySdk.builder().setTracerProvider(provider)
        .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance())).build());
  }

  @AfterEach
  void close() {
    provider.close();
  }

  @Test
  void aRequestsTraceGoesThroughTheOutboxRowAndTheRecordToTheConsumer() {
    Span request = provider.get("test").spanBuilder("POST /v1/fine_tuning/jobs").setSpanKind(SpanKind.SERVER).startSpan();
    String stored;
    try (Scope s = request.makeCurrent()) {
      stored = tracing.currentTraceparent();
    } finally {
      request.end();
    }
    assertThat(stored).isEqualTo("00-" + request.getSpanContext().getTraceId() + "-" + request.getSpanContext().getSpanId() + "-01");

    // The relay, later, on another thread: the row's traceparent is the parent of the sending span.
    ProducerRecord<String, String> record = new ProducerRecord<>("peft.job-commands", "ftjob-1", "{}");
    Span send = tracing.startSend(tracing.fromTraceparent(stored), record.topic(), record.key(), () -> "JobSubmitted", record.headers());
    EventTracing.sent(send, null);
    String header = new String(record.headers().lastHeader("traceparent").value(), StandardCharsets.UTF_8);
    assertThat(header).isEqualTo("00-" + request.getSpanContext().getTraceId() + "-" + send.getSpanContext().getSpanId() + "-01");

    ConsumerRecord<String, String> consumed = new ConsumerRecord<>(record.topic(), 0, 7L, record.key(), record.value());
    record.headers().forEach(h -> consumed.headers().add(h));
    String traceIdInside;
    String mdcInside;
    try (EventTracing.Traced t = tracing.consume(consumed, "JobSubmitted")) {
      traceIdInside = Span.current().getSpanContext().getTraceId();
      mdcInside = (String) MDC.get("traceId");
      try (EventTracing.Traced work = tracing.work("training job", Map.of(EventTracing.JOB_ID, "ftjob-1"))) {
        assertThat(MDC.get("spanId")).isEqualTo(Span.current().getSpanContext().getSpanId());
      }
    }
    assertThat(traceIdInside).isEqualTo(request.getSpanContext().getTraceId());
    assertThat(mdcInside).isEqualTo(traceIdInside);
    assertThat(MDC.get("traceId")).as("restored after the event").isNull();
    assertThat(Span.current().getSpanContext().isValid()).isFalse();

    SpanData sent = span("peft.job-commands publish");
    SpanData process = span("peft.job-commands process");
    SpanData work = span("training job");
    assertThat(sent.getKind()).isEqualTo(SpanKind.PRODUCER);
    assertThat(sent.getParentSpanId()).isEqualTo(request.getSpanContext().getSpanId());
    assertThat(sent.getAttributes().asMap()).containsEntry(EventTracing.MESSAGE_KEY, "ftjob-1").containsEntry(EventTracing.EVENT_TYPE, "JobSubmitted");
    assertThat(process.getKind()).isEqualTo(SpanKind.CONSUMER);
    assertThat(process.getParentSpanId()).isEqualTo(sent.getSpanId());
    assertThat(work.getParentSpanId()).isEqualTo(process.getSpanId());
    assertThat(work.getAttributes().asMap()).containsEntry(EventTracing.JOB_ID, "ftjob-1");
  }

  @Test
  void untracedEventsMakeNoSpansAndCarryNoHeaders() {
    assertThat(tracing.currentTraceparent()).isNull();
    assertThat(tracing.fromTraceparent("not-a-traceparent")).isEqualTo(Context.root());
    ProducerRecord<String, String> record = new ProducerRecord<>("peft.job-events", "ftjob-1", "{}");
    assertThat(tracing.startSend(Context.current(), record.topic(), record.key(), () -> "JobProgressed", record.headers())).isNull();
    assertThat(record.headers().toArray()).isEmpty();
    try (EventTracing.Traced t = tracing.consume(new ConsumerRecord<>("peft.job-events", 0, 1L, "ftjob-1", "{}"), "JobProgressed");
        EventTracing.Traced w = tracing.work("training job", Map.of())) {
      assertThat(Span.current().getSpanContext().isValid()).isFalse();
      assertThat(MDC.get("traceId")).isNull();
    }
    assertThat(finished).isEmpty();
  }

  @Test
  void aSendTheBrokerRefusesEndsItsSpanAsAnError() {
    Span parent = provider.get("test").spanBuilder("parent").startSpan();
    ProducerRecord<String, String> record = new ProducerRecord<>("peft.job-events", "ftjob-1", "{}");
    Span send = tracing.startSend(Context.root().with(parent), record.topic(), record.key(), () -> "JobSucceeded", record.headers());
    EventTracing.sent(send, new IllegalStateException("broker away"));
    parent.end();
    assertThat(span("peft.job-events publish").getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
  }

  private SpanData span(String name) {
    return finished.stream().filter(s -> s.getName().equals(name)).findFirst().orElseThrow(() -> new AssertionError("no span " + name));
  }
}

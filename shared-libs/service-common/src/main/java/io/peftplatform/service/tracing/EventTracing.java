package io.peftplatform.service.tracing;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapSetter;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.jboss.logging.MDC;

/**
 * One job's (or merge's, or upload's) trace across the services: the W3C trace context travels from the
 * REST call that caused an event, through the outbox row that holds it until it is sent, in the Kafka
 * record's headers, to the consumer that acts on it and to the events that consumer publishes in turn.
 *
 * <p>Only events that carry a trace make spans on the way: a REST call's outbox rows, what a consumer
 * publishes while it handles a traced event, a worker's job. Progress and heartbeats ({@code offer}) go
 * untraced, so a long job is one trace of a few spans, not thousands. Quarkus traces the REST calls; its
 * own Kafka instrumentation is off ({@code quarkus.otel.instrument.messaging=false}), as it would start a
 * trace for every untraced record.
 *
 * <p>While a span of this class is current, the log lines carry its {@code traceId} and {@code spanId}
 * (MDC), next to the {@code job_id}/{@code merge_id} and {@code tenant} the runners put there.
 */
@ApplicationScoped
public class EventTracing {
  public static final AttributeKey<String> JOB_ID = AttributeKey.stringKey("peft.job_id");
  public static final AttributeKey<String> MERGE_ID = AttributeKey.stringKey("peft.merge_id");
  public static final AttributeKey<String> TENANT = AttributeKey.stringKey("peft.tenant");
  static final AttributeKey<String> EVENT_TYPE = AttributeKey.stringKey("peft.event_type");
  static final AttributeKey<String> MESSAGING_SYSTEM = AttributeKey.stringKey("messaging.system");
  static final AttributeKey<String> DESTINATION = AttributeKey.stringKey("messaging.destination.name");
  static final AttributeKey<String> OPERATION = AttributeKey.stringKey("messaging.operation.type");
  static final AttributeKey<String> MESSAGE_KEY = AttributeKey.stringKey("messaging.kafka.message.key");
  static final String TRACEPARENT = "traceparent";

  private static final TextMapSetter<Map<String, String>> MAP_SETTER = Map::put;
  private static final TextMapGetter<Map<String, String>> MAP_GETTER = new TextMapGetter<>() {
    public Iterable<String> keys(Map<String, String> carrier) {
      return carrier.keySet();
    }

    public String get(Map<String, String> carrier, String key) {
      return carrier == null ? null : carrier.get(key);
    }
  };
  private static final TextMapSetter<Headers> HEADER_SETTER =
      (headers, key, value) -> headers.remove(key).add(key, value.getBytes(StandardCharsets.UTF_8));
  private static final TextMapGetter<Headers> HEADER_GETTER = new TextMapGetter<>() {
    public Iterable<String> keys(Headers carrier) {
      return StreamSupport.stream(carrier.spliterator(), false).map(Header::key).toList();
    }

    public String get(Headers carrier, String key) {
      Header h = carrier == null ? null : carrier.lastHeader(key);
      return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }
  };

  private final OpenTelemetry otel;
  private final Tracer tracer;

  @Inject
  public EventTracing(OpenTelemetry otel) {
    this.otel = otel;
    this.tracer = otel.getTracer("io.peftplatform");
  }

  /** The current span's context as a W3C {@code traceparent}, to keep with an outbox row; null when there is none. */
  public String currentTraceparent() {
    if (!Span.current().getSpanContext().isValid()) {
      return null;
    }
    Map<String, String> carrier = new HashMap<>();
    otel.getPropagators().getTextMapPropagator().inject(Context.current(), carrier, MAP_SETTER);
    return carrier.get(TRACEPARENT);
  }

  /** The context a stored {@code traceparent} names (the root context for null or a malformed one). */
  public Context fromTraceparent(String traceparent) {
    if (traceparent == null) {
      return Context.root();
    }
    return otel.getPropagators().getTextMapPropagator().extract(Context.root(), Map.of(TRACEPARENT, traceparent), MAP_GETTER);
  }

  /**
   * Starts the span of sending one event, a child of {@code parent}, and writes its context into the
   * record's headers; null (and nothing written) when {@code parent} holds no trace. The caller ends it
   * with {@link #sent}.
   */
  public Span startSend(Context parent, String topic, String key, java.util.function.Supplier<String> eventType, Headers headers) {
    if (!Span.fromContext(parent).getSpanContext().isValid()) {
      return null;
    }
    Span span = tracer.spanBuilder(topic + " publish").setSpanKind(SpanKind.PRODUCER).setParent(parent)
        .setAttribute(MESSAGING_SYSTEM, "kafka").setAttribute(DESTINATION, topic).setAttribute(OPERATION, "publish")
        .setAttribute(MESSAGE_KEY, key).setAttribute(EVENT_TYPE, eventType.get()).startSpan();
    otel.getPropagators().getTextMapPropagator().inject(parent.with(span), headers, HEADER_SETTER);
    return span;
  }

  /** Ends a span of {@link #startSend} (null: nothing to end), with the error that kept the event from the broker. */
  public static void sent(Span span, Throwable error) {
    if (span == null) {
      return;
    }
    if (error != null) {
      span.recordException(error);
      span.setStatus(StatusCode.ERROR, String.valueOf(error.getMessage()));
    }
    span.end();
  }

  /**
   * Begins handling a consumed event: a consumer span, child of the trace the record carries, current on
   * this thread (and in the log lines) until the returned scope is closed. A record without a trace gets
   * no span, and the returned scope does nothing.
   */
  public Traced consume(ConsumerRecord<?, ?> record, String eventType) {
    return consume(record.topic(), record.key(), record.headers(), eventType);
  }

  /** {@link #consume(ConsumerRecord, String)} for a record's parts (SmallRye's {@code KafkaRecord}). */
  public Traced consume(String topic, Object key, Headers headers, String eventType) {
    Context parent = otel.getPropagators().getTextMapPropagator().extract(Context.root(), headers, HEADER_GETTER);
    if (!Span.fromContext(parent).getSpanContext().isValid()) {
      return Traced.NONE;
    }
    Span span = tracer.spanBuilder(topic + " process").setSpanKind(SpanKind.CONSUMER).setParent(parent)
        .setAttribute(MESSAGING_SYSTEM, "kafka").setAttribute(DESTINATION, topic).setAttribute(OPERATION, "process")
        .setAttribute(MESSAGE_KEY, String.valueOf(key)).setAttribute(EVENT_TYPE, eventType).startSpan();
    return new Traced(span, parent.with(span).makeCurrent());
  }

  /** A span of work inside the current trace (a training job, a merge), current until closed; none outside a trace. */
  public Traced work(String name, Map<AttributeKey<String>, String> attributes) {
    if (!Span.current().getSpanContext().isValid()) {
      return Traced.NONE;
    }
    var builder = tracer.spanBuilder(name).setSpanKind(SpanKind.INTERNAL);
    attributes.forEach(builder::setAttribute);
    Span span = builder.startSpan();
    return new Traced(span, span.makeCurrent());
  }

  /** Tags the current span (the REST call's) with what it created, so a trace can be found by job or merge id. */
  public static void tag(AttributeKey<String> key, String value) {
    Span.current().setAttribute(key, value);
  }

  /** A current span and its scope: closing it ends the span and restores what was current (and the MDC). */
  public static final class Traced implements AutoCloseable {
    private static final List<String> MDC_KEYS = List.of("traceId", "spanId");
    static final Traced NONE = new Traced(null, null);

    private final Span span;
    private final Scope scope;
    private final Object[] previousMdc = new Object[MDC_KEYS.size()];

    Traced(Span span, Scope scope) {
      this.span = span;
      this.scope = scope;
      if (span != null) {
        for (int i = 0; i < MDC_KEYS.size(); i++) {
          previousMdc[i] = MDC.get(MDC_KEYS.get(i));
        }
        MDC.put("traceId", span.getSpanContext().getTraceId());
        MDC.put("spanId", span.getSpanContext().getSpanId());
      }
    }

    @Override
    public void close() {
      if (span == null) {
        return;
      }
      scope.close();
      span.end();
      for (int i = 0; i < MDC_KEYS.size(); i++) {
        if (previousMdc[i] == null) {
          MDC.remove(MDC_KEYS.get(i));
        } else {
          MDC.put(MDC_KEYS.get(i), previousMdc[i]);
        }
      }
    }
  }
}

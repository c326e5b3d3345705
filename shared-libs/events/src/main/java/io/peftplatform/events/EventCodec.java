package io.peftplatform.events;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.time.Instant;
import java.util.UUID;

/** Events to and from their JSON form on the wire. */
public final class EventCodec {
  private static final ObjectMapper JSON = JsonMapper.builder()
      .addModule(new JavaTimeModule())
      .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .build();

  private EventCodec() {}

  public static String encode(PlatformEvent event) {
    try {
      return JSON.writeValueAsString(event);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("cannot encode " + event.getClass().getSimpleName() + ": " + e.getMessage(), e);
    }
  }

  /** @throws IllegalArgumentException for anything that is not a known event (a poison message) */
  public static PlatformEvent decode(String json) {
    try {
      PlatformEvent e = JSON.readValue(json, PlatformEvent.class);
      if (e == null || e.eventId() == null || e.aggregateId() == null) {
        throw new IllegalArgumentException("event without eventId or aggregateId: " + json);
      }
      return e;
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not a platform event: " + e.getOriginalMessage(), e);
    }
  }

  /** Whose an event is: its aggregate's id and tenant. */
  public record Aggregate(String id, String tenant) {}

  /**
   * The aggregate named by a message that does not decode as an event (a poison message), when it names
   * one: so the job or merge it concerns can be failed with the reason instead of waiting forever.
   */
  public static java.util.Optional<Aggregate> aggregateIdOf(String json) {
    try {
      com.fasterxml.jackson.databind.JsonNode n = JSON.readTree(json);
      if (n != null && n.path("aggregateId").isTextual() && n.path("tenant").isTextual()) {
        return java.util.Optional.of(new Aggregate(n.get("aggregateId").asText(), n.get("tenant").asText()));
      }
    } catch (JsonProcessingException | RuntimeException e) {
      // not even JSON
    }
    return java.util.Optional.empty();
  }

  /** A new event id. */
  public static String newId() {
    return UUID.randomUUID().toString();
  }

  public static Instant now() {
    return Instant.now();
  }

  public static String typeOf(PlatformEvent e) {
    return e.getClass().getSimpleName();
  }

  /** The type an encoded event names ({@code "type"}), or "unknown" for anything that names none. */
  public static String typeOfEncoded(String json) {
    try {
      com.fasterxml.jackson.databind.JsonNode n = JSON.readTree(json);
      return n != null && n.path("type").isTextual() ? n.get("type").asText() : "unknown";
    } catch (JsonProcessingException | RuntimeException e) {
      return "unknown";
    }
  }
}

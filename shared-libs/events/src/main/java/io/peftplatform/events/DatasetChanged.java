package io.peftplatform.events;

import java.time.Instant;

/**
 * A dataset was registered or its status changed.
 *
 * @param format text, prompt_completion or messages
 */
public record DatasetChanged(String eventId, Instant time, String aggregateId, String tenant, String name,
    String status, String format, long rows, ObjectRef file, String error) implements PlatformEvent {}

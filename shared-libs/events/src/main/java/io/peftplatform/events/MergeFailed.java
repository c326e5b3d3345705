package io.peftplatform.events;

import java.time.Instant;

/** A merge that cannot be done (e.g. a rank larger than a module allows), with why. */
public record MergeFailed(String eventId, Instant time, String aggregateId, String tenant, String code, String message)
    implements PlatformEvent {}

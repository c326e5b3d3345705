package io.peftplatform.events;

import java.time.Instant;

/** A model, dataset or adapter was deleted. kind: model, dataset or adapter. */
public record ArtifactDeleted(String eventId, Instant time, String aggregateId, String tenant, String kind)
    implements PlatformEvent {}

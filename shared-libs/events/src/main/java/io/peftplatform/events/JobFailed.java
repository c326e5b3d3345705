package io.peftplatform.events;

import java.time.Instant;

/**
 * A job could not run or finish.
 *
 * @param code machine-readable: invalid_training_file, invalid_model, out_of_memory, internal_error …
 */
public record JobFailed(String eventId, Instant time, String aggregateId, String tenant, String code, String message)
    implements PlatformEvent {}

package io.peftplatform.events;

/** An object in the platform's bucket with the SHA-256 and size of its bytes. */
public record ObjectRef(String key, String sha256, long bytes) {}

package io.peftplatform.storage;

/** Where the platform's objects live: an S3-compatible endpoint, credentials and one bucket. */
public record StorageConfig(String endpoint, String accessKey, String secretKey, String bucket) {}

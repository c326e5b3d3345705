package io.peftplatform.storage;

import java.time.Duration;

/**
 * Where the platform's objects live: an S3-compatible endpoint, credentials and one bucket.
 *
 * @param publicEndpoint the address clients reach the same server at, for presigned URLs (in compose or a
 *     cluster the services' endpoint is an internal host name); null or empty: {@code endpoint}
 * @param region the region presigned URLs are signed for when {@code publicEndpoint} is set
 * @param retryFor how long one call keeps retrying while the server is away or overloaded
 */
public record StorageConfig(String endpoint, String accessKey, String secretKey, String bucket, String publicEndpoint,
    String region, Duration retryFor) {
  /** Long enough to ride out a restart or a minute-long outage of the S3 server. */
  public static final Duration DEFAULT_RETRY_FOR = Duration.ofMinutes(3);

  public StorageConfig(String endpoint, String accessKey, String secretKey, String bucket) {
    this(endpoint, accessKey, secretKey, bucket, null, null, DEFAULT_RETRY_FOR);
  }

  public StorageConfig(String endpoint, String accessKey, String secretKey, String bucket, String publicEndpoint, String region) {
    this(endpoint, accessKey, secretKey, bucket, publicEndpoint, region, DEFAULT_RETRY_FOR);
  }

  /** The same store, retrying for another duration. */
  public StorageConfig withRetryFor(Duration d) {
    return new StorageConfig(endpoint, accessKey, secretKey, bucket, publicEndpoint, region, d);
  }
}

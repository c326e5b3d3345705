package io.peftplatform.storage;

/**
 * Where the platform's objects live: an S3-compatible endpoint, credentials and one bucket.
 *
 * @param publicEndpoint the address clients reach the same server at, for presigned URLs (in compose or a
 *     cluster the services' endpoint is an internal host name); null or empty: {@code endpoint}
 * @param region the region presigned URLs are signed for when {@code publicEndpoint} is set
 */
public record StorageConfig(String endpoint, String accessKey, String secretKey, String bucket, String publicEndpoint,
    String region) {
  public StorageConfig(String endpoint, String accessKey, String secretKey, String bucket) {
    this(endpoint, accessKey, secretKey, bucket, null, null);
  }
}

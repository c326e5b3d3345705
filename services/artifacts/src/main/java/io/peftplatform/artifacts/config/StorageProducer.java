package io.peftplatform.artifacts.config;

import io.peftplatform.storage.ObjectStore;
import io.peftplatform.storage.StorageConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/** The bucket, created on first use if missing. */
@ApplicationScoped
public class StorageProducer {
  @Produces
  @Singleton
  ObjectStore store(ArtifactsConfig config) {
    var s = config.storage();
    return ObjectStore.withBucket(new StorageConfig(s.endpoint(), s.accessKey(), s.secretKey(), s.bucket(),
        s.publicEndpoint().orElse(null), s.region()));
  }
}

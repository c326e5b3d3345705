package io.peftplatform.worker.config;

import io.peftplatform.storage.LocalCache;
import io.peftplatform.storage.ObjectStore;
import io.peftplatform.storage.StorageConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/** The bucket and the local cache. */
@ApplicationScoped
public class Infrastructure {
  @Produces
  @Singleton
  ObjectStore store(WorkerConfig config) {
    var s = config.storage();
    return ObjectStore.withBucket(new StorageConfig(s.endpoint(), s.accessKey(), s.secretKey(), s.bucket()));
  }

  @Produces
  @Singleton
  LocalCache cache(WorkerConfig config, ObjectStore store) {
    return new LocalCache(config.cacheDir(), store);
  }
}

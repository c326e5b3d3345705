package io.peftplatform.worker.config;

import io.peftplatform.storage.LocalCache;
import io.peftplatform.storage.ObjectStore;
import io.peftplatform.serving.ModelServer;
import io.peftplatform.serving.ServingLimits;
import io.peftplatform.storage.StorageConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/** The bucket, the local cache and the model server. */
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
  ModelServer server(WorkerConfig config) {
    return new ModelServer(new ServingLimits(config.serving().modelMemory().asLongValue(), config.serving().adapterMemory().asLongValue()));
  }

  void close(@jakarta.enterprise.inject.Disposes ModelServer server) {
    server.close();
  }

  @Produces
  @Singleton
  LocalCache cache(WorkerConfig config, ObjectStore store) {
    return new LocalCache(config.cacheDir(), store);
  }
}

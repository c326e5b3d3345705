package io.peftplatform.merger.config;

import io.peftplatform.storage.LocalCache;
import io.peftplatform.storage.ObjectStore;
import io.peftplatform.storage.StorageConfig;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.nio.file.Path;

/** A merging worker's settings: the bucket, a cache of downloaded models and adapters, scratch space. */
@ConfigMapping(prefix = "peft")
public interface MergerConfig {
  Storage storage();

  /** Base models and adapters downloaded once, by SHA-256. */
  Path cacheDir();

  /** Where merges are written before upload. */
  Path workDir();

  /** This worker's name in the attempts it records. */
  String workerId();

  /** How long a merge keeps retrying while object storage or the broker is away before it fails. */
  @WithDefault("30m")
  Duration transientRetryWindow();

  /** A merge whose workers died this many times while running it fails (worker_crashed). */
  @WithDefault("3")
  int maxCrashes();

  /** How often a learned merge saves its state (coefficients, Adam's moments, the step) for a later attempt to resume from. */
  @WithDefault("10s")
  Duration learnedStateInterval();

  interface Storage {
    String endpoint();

    String accessKey();

    String secretKey();

    String bucket();
  }

  /** The bucket (created if missing) and the cache over it. */
  @ApplicationScoped
  class Producers {
    @Produces
    @Singleton
    ObjectStore store(MergerConfig config) {
      var s = config.storage();
      return ObjectStore.withBucket(new StorageConfig(s.endpoint(), s.accessKey(), s.secretKey(), s.bucket()));
    }

    @Produces
    @Singleton
    LocalCache cache(MergerConfig config, ObjectStore store) {
      return new LocalCache(config.cacheDir(), store);
    }
  }
}

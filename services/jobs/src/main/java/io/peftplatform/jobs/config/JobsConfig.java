package io.peftplatform.jobs.config;

import io.smallrye.config.ConfigMapping;
import java.util.Optional;

/** The jobs service's settings. */
@ConfigMapping(prefix = "peft")
public interface JobsConfig {
  /** Shared secret added to every request the gateway forwards (X-Peft-Internal-Token). */
  String internalToken();

  /** The admin key to create on first start; a random one is generated and printed when absent. */
  Optional<String> adminKey();

  /** Base URL of the artifacts service (models, datasets, adapters). */
  String artifactsUrl();

  /** Base URL of a training worker (generation). */
  String trainingUrl();
}

package io.peftplatform.jobs.config;

import io.quarkus.runtime.configuration.MemorySize;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import jakarta.validation.constraints.Size;
import java.util.Optional;

/** The jobs service's settings. */
@ConfigMapping(prefix = "peft")
public interface JobsConfig {
  /**
   * Shared secret added to every request the gateway forwards (X-Peft-Internal-Token). No default: every
   * installation sets its own (PEFT_INTERNAL_TOKEN), or the service does not start.
   */
  @Size(min = 32, message = "must be at least 32 characters: set PEFT_INTERNAL_TOKEN to a long random secret")
  String internalToken();

  /** The admin key to create on first start; a random one is generated and printed when absent. */
  Optional<String> adminKey();

  /** Base URL of the artifacts service (models, datasets, adapters). */
  String artifactsUrl();

  /** Base URL of a training worker (generation). */
  String trainingUrl();

  /**
   * A running job whose worker has not reported (heartbeats come every 10 s) for this long is shown queued
   * again, waiting to be resumed.
   */
  @WithDefault("60s")
  java.time.Duration workerLease();

  /**
   * Run a job request's path once in the background at start-up (its JSON read, validated, resolved, a
   * database lookup, the response written), so the first request does not pay for it. Nothing is stored.
   */
  @WithDefault("true")
  boolean warmUp();

  /** How often the background work runs. */
  Schedule schedule();

  interface Schedule {
    /** Running jobs are checked for a worker that stopped reporting. */
    @WithDefault("10s")
    java.time.Duration stallCheck();

    /** Jobs waiting for a slot of their tenant are looked at (besides whenever a job ends). */
    @WithDefault("30s")
    java.time.Duration dispatchCheck();

    /**
     * Open event streams get the events written since the last poll. Below the Quarkus scheduler's 1 s check
     * period on purpose: it then runs at every check, each second; at "1s" it runs every 1-2 s (a check that
     * comes a moment before the interval is up skips it).
     */
    @WithDefault("0.5s")
    java.time.Duration streamPoll();
  }

  /** What one request or tenant may use. */
  Limits limits();

  interface Limits {
    /** Largest JSON request body (413 beyond; uploads are multipart or JSONL, limited by the artifacts service). */
    @WithDefault("1M")
    MemorySize jsonBodyBytes();

    /** Jobs of one tenant dispatched to workers at once (queued or running); more wait, queued, for a slot. */
    @WithDefault("4")
    int runningJobsPerTenant();
  }
}

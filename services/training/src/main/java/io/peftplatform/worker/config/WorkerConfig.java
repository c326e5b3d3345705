package io.peftplatform.worker.config;

import io.quarkus.runtime.configuration.MemorySize;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import jakarta.validation.constraints.Size;
import java.nio.file.Path;
import java.time.Duration;

/** A training worker's settings. */
@ConfigMapping(prefix = "peft")
public interface WorkerConfig {
  Storage storage();

  /** Shared secret required on internal requests (X-Peft-Internal-Token); no default (PEFT_INTERNAL_TOKEN). */
  @Size(min = 32, message = "must be at least 32 characters: set PEFT_INTERNAL_TOKEN to a long random secret")
  String internalToken();

  /** Models and datasets downloaded once, by SHA-256. */
  Path cacheDir();

  /** Where running jobs keep their checkpoints before upload. */
  Path workDir();

  /** This worker's name in job events. */
  String workerId();

  /** Progress events at most this often (and at validations and the last step). */
  @WithDefault("1s")
  Duration progressInterval();

  /** How often a running job's heartbeat goes out. */
  @WithDefault("10s")
  Duration heartbeatInterval();

  /** A running job that moves (a step, a phase) less often than this means the worker is stuck (liveness down). */
  @WithDefault("30m")
  Duration stallTimeout();

  /** How long a job keeps retrying while object storage or the broker is away before it fails. */
  @WithDefault("30m")
  Duration transientRetryWindow();

  /** A job whose workers died this many times while running it fails (worker_crashed) instead of crashing more. */
  @WithDefault("3")
  int maxCrashes();

  /**
   * Recompute each decoder block's forward in backward (activation checkpointing): a job then needs the
   * memory of one block's activations instead of all of them, for about a third more time per step.
   * The numbers trained are the same either way.
   */
  @WithDefault("false")
  boolean activationCheckpointing();

  /**
   * Run a job's path once in the background at start-up (storage requests, then a two-step run of a tiny
   * random checkpoint on a made-up JSONL file), so the first job does not pay for loading ND4J's native
   * libraries and compiling the training code (a few seconds on a small CPU).
   */
  @WithDefault("true")
  boolean warmUp();

  /** Inference: what a worker keeps loaded, and how many requests may wait. */
  Serving serving();

  interface Serving {
    /** Largest generation accepted (max_tokens), and the default. */
    @WithDefault("1024")
    int maxTokens();

    /** Base models kept in memory (fp32 weights), least recently used evicted beyond it; the one in use stays. */
    @WithDefault("8G")
    MemorySize modelMemory();

    /** Adapters kept in memory over their bases, least recently used evicted beyond it. */
    @WithDefault("1G")
    MemorySize adapterMemory();

    /** Requests waiting for their turn beyond this are refused (429) rather than queued for minutes. */
    @WithDefault("64")
    int maxWaiting();
  }

  interface Storage {
    String endpoint();

    String accessKey();

    String secretKey();

    String bucket();
  }
}

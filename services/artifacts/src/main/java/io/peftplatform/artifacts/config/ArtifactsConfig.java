package io.peftplatform.artifacts.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import jakarta.validation.constraints.Size;
import io.quarkus.runtime.configuration.MemorySize;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** The artifacts service's settings. */
@ConfigMapping(prefix = "peft")
public interface ArtifactsConfig {
  /** The S3-compatible bucket that holds every artifact's bytes. */
  Storage storage();

  /** Shared secret the gateway sends with every request (X-Peft-Internal-Token); no default (PEFT_INTERNAL_TOKEN). */
  @Size(min = 32, message = "must be at least 32 characters: set PEFT_INTERNAL_TOKEN to a long random secret")
  String internalToken();

  /** Scratch space for uploads and imports being validated. */
  Path workDir();

  /** Where hf:// models are imported from. */
  Hf hf();

  /** How models are validated and imported in the background. */
  Validation validation();

  interface Validation {
    /** Models validated at once per replica (tenants take turns for these threads). */
    @WithDefault("2")
    int threads();

    /** Imports downloading at once per replica (tenants take turns; a slow source holds only one). */
    @WithDefault("4")
    int importThreads();

    /**
     * How long a replica holds a model it validates without renewing the hold; after that another
     * replica (or this one, restarted) takes the model over.
     */
    @WithDefault("60s")
    Duration lease();

    /** How often the holds are renewed. */
    @WithDefault("15s")
    Duration heartbeat();

    /** How often models whose hold ran out are looked for. */
    @WithDefault("20s")
    Duration sweep();
  }

  /** What one request may bring in. */
  Limits limits();

  /** Where models may be imported from. */
  Imports imports();

  /** Sizes and counts past which input is refused (413, or a failed model naming the limit). */
  interface Limits {
    /** Largest model: all its files together, however they arrive (unpacked archive, import). */
    @WithDefault("64G")
    MemorySize modelBytes();

    /** Most entries an uploaded or imported archive may hold (a model directory has a few dozen). */
    @WithDefault("1000")
    int archiveEntries();

    /** Largest ratio of unpacked to packed bytes of an archive (a gzip bomb's is in the thousands). */
    @WithDefault("100")
    int archiveRatio();

    /** Largest dataset. */
    @WithDefault("2G")
    MemorySize datasetBytes();

    /** Longest line of a dataset, in characters; checked before the line is read whole. */
    @WithDefault("8388608")
    int datasetLineChars();

    /** Most models one tenant may have validating or importing at once (429 beyond). */
    @WithDefault("4")
    int pendingModelsPerTenant();
  }

  interface Imports {
    /**
     * What {@code s3://} imports may read, as {@code bucket} or {@code bucket/prefix} entries; none by
     * default. The platform's own bucket is never readable beyond the caller's own prefix.
     */
    Optional<List<String>> s3Allowed();

    /** The S3 endpoint of the allowed buckets; default: the platform's. */
    Optional<String> s3Endpoint();

    Optional<String> s3AccessKey();

    Optional<String> s3SecretKey();

    /**
     * Hosts that {@code https://} imports may reach even where they resolve to a private address (a mirror
     * inside the operator's network). The Hub endpoint's host is always allowed.
     */
    Optional<List<String>> trustedHosts();

    /** How long one import may take, every download together. */
    @WithDefault("2h")
    Duration timeout();

    /** Redirects followed per download (each one checked like the first URL). */
    @WithDefault("5")
    int maxRedirects();
  }

  interface Storage {
    String endpoint();

    String accessKey();

    String secretKey();

    String bucket();

    /** The address clients reach the S3 server at, for presigned URLs; default: the endpoint. */
    Optional<String> publicEndpoint();

    /** The region presigned URLs are signed for (with a public endpoint). */
    @WithDefault("us-east-1")
    String region();
  }

  interface Hf {
    /** Base URL of the Hugging Face Hub, or a mirror (HF_ENDPOINT). */
    String endpoint();

    /** Access token for gated or private models (HF_TOKEN). */
    Optional<String> token();
  }
}

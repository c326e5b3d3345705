package io.peftplatform.artifacts.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.util.Optional;

/** The artifacts service's settings. */
@ConfigMapping(prefix = "peft")
public interface ArtifactsConfig {
  /** The S3-compatible bucket that holds every artifact's bytes. */
  Storage storage();

  /** Shared secret the gateway sends with every request (X-Peft-Internal-Token). */
  String internalToken();

  /** Scratch space for uploads and imports being validated. */
  Path workDir();

  /** Where hf:// models are imported from. */
  Hf hf();

  /** Largest dataset accepted, in bytes. */
  @WithDefault("2147483648")
  long maxDatasetBytes();

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

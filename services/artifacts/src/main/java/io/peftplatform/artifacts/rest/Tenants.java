package io.peftplatform.artifacts.rest;

import io.peftplatform.artifacts.config.ArtifactsConfig;
import io.peftplatform.service.auth.InternalCaller;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.ws.rs.core.HttpHeaders;

/** The tenant of a request forwarded by the gateway. */
@ApplicationScoped
public class Tenants {
  @Inject ArtifactsConfig config;

  public String of(HttpHeaders headers) {
    return InternalCaller.tenant(headers, config.internalToken());
  }
}

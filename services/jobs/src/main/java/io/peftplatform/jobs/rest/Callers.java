package io.peftplatform.jobs.rest;

import io.peftplatform.jobs.config.JobsConfig;
import io.peftplatform.jobs.gateway.Gateway;
import io.peftplatform.service.auth.InternalCaller;
import io.peftplatform.service.problem.ApiException;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.ws.rs.core.HttpHeaders;

/** The tenant (and admin flag) of a request the gateway authenticated. */
@ApplicationScoped
public class Callers {
  @Inject JobsConfig config;

  public String tenant(HttpHeaders headers) {
    return InternalCaller.tenant(headers, config.internalToken());
  }

  public void requireAdmin(HttpHeaders headers) {
    tenant(headers);
    if (!"true".equals(headers.getHeaderString(Gateway.ADMIN))) {
      throw new ApiException(403, "this needs an admin API key", null);
    }
  }
}

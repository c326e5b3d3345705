package io.peftplatform.service.auth;

import io.peftplatform.service.problem.ApiException;
import jakarta.ws.rs.core.HttpHeaders;
import java.security.MessageDigest;
import java.nio.charset.StandardCharsets;

/**
 * Requests between services: the public API's gateway (the jobs service) authenticates the caller's API
 * key and forwards the request with the tenant in {@link #TENANT} and the cluster's shared secret in
 * {@link #TOKEN}. Internal services accept nothing else.
 */
public final class InternalCaller {
  public static final String TENANT = "X-Peft-Tenant";
  public static final String TOKEN = "X-Peft-Internal-Token";

  private InternalCaller() {}

  /** The calling tenant, after checking the shared secret; 401 otherwise. */
  public static String tenant(HttpHeaders headers, String expectedToken) {
    String token = headers.getHeaderString(TOKEN);
    if (token == null || !MessageDigest.isEqual(token.getBytes(StandardCharsets.UTF_8), expectedToken.getBytes(StandardCharsets.UTF_8))) {
      throw new ApiException(401, "missing or invalid service credentials; call the public API with an API key", null);
    }
    String tenant = headers.getHeaderString(TENANT);
    if (tenant == null || !tenant.matches("[a-z0-9][a-z0-9-]{0,62}")) {
      throw new ApiException(401, "missing or invalid tenant", null);
    }
    return tenant;
  }
}

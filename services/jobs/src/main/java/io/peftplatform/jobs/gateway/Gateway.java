package io.peftplatform.jobs.gateway;

import io.peftplatform.jobs.auth.KeyRegistry;
import io.peftplatform.jobs.config.JobsConfig;
import io.peftplatform.service.auth.InternalCaller;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.httpproxy.HttpProxy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.net.URI;
import java.util.Optional;

/**
 * The one address of the public API. Every {@code /v1/} request is authenticated here by its API key;
 * the tenant goes on as {@code X-Peft-Tenant} with the cluster's {@code X-Peft-Internal-Token} (whatever
 * the client sent in those headers is dropped). Models, datasets and adapters are streamed through to
 * the artifacts service; everything else is this service's own.
 */
@ApplicationScoped
public class Gateway {
  public static final String ADMIN = "X-Peft-Admin";
  static final String[] ARTIFACT_PATHS = {"/v1/models", "/v1/datasets", "/v1/adapters", "/v1/merges"};

  @Inject KeyRegistry keys;
  @Inject JobsConfig config;

  void routes(@Observes Router router, Vertx vertx) {
    router.route("/v1/*").order(-1000).handler(this::authenticate);
    URI artifacts = URI.create(config.artifactsUrl());
    HttpClient client = vertx.createHttpClient(new HttpClientOptions().setMaxPoolSize(64).setKeepAlive(true));
    HttpProxy proxy = HttpProxy.reverseProxy(client).origin(artifacts.getPort() < 0 ? 80 : artifacts.getPort(), artifacts.getHost());
    for (String path : ARTIFACT_PATHS) {
      router.route(path).order(-900).handler(rc -> proxy.handle(rc.request()));
      router.route(path + "/*").order(-900).handler(rc -> proxy.handle(rc.request()));
    }
  }

  void authenticate(RoutingContext rc) {
    var headers = rc.request().headers();
    headers.remove(InternalCaller.TENANT);
    headers.remove(InternalCaller.TOKEN);
    headers.remove(ADMIN);
    Optional<KeyRegistry.Principal> principal = keys.authenticate(headers.get("Authorization"));
    if (principal.isEmpty()) {
      rc.response().setStatusCode(401)
          .putHeader("Content-Type", "application/problem+json")
          .putHeader("WWW-Authenticate", "Bearer")
          .end("{\"type\":\"about:blank\",\"title\":\"Unauthorized\",\"status\":401,"
              + "\"detail\":\"missing or unknown API key: send Authorization: Bearer <key>\"}");
      return;
    }
    headers.set(InternalCaller.TENANT, principal.get().tenant());
    headers.set(InternalCaller.TOKEN, config.internalToken());
    headers.set(ADMIN, Boolean.toString(principal.get().admin()));
    rc.next();
  }
}

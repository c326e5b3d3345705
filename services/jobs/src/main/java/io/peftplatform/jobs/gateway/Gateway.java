package io.peftplatform.jobs.gateway;

import io.peftplatform.jobs.auth.KeyRegistry;
import io.peftplatform.jobs.config.JobsConfig;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftplatform.service.auth.InternalCaller;
import io.peftplatform.service.problem.ApiException;
import io.peftplatform.service.problem.Problem;
import io.peftplatform.service.problem.RequestValues;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.httpproxy.Body;
import io.vertx.httpproxy.HttpProxy;
import io.vertx.httpproxy.ProxyContext;
import io.vertx.httpproxy.ProxyInterceptor;
import io.vertx.httpproxy.ProxyResponse;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
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
  static final String[] ARTIFACT_PATHS = {"/v1/models", "/v1/files", "/v1/adapters", "/v1/merges"};

  @Inject KeyRegistry keys;
  @Inject JobsConfig config;
  @Inject ObjectMapper json;

  void routes(@Observes Router router, Vertx vertx) {
    router.route("/q/metrics").order(-1100).handler(this::metricsAccess);
    router.route("/q/metrics/*").order(-1100).handler(this::metricsAccess);
    router.route("/v1/*").order(-1000).handler(this::authenticate);
    URI artifacts = URI.create(config.artifactsUrl());
    HttpClient client = vertx.createHttpClient(new HttpClientOptions().setMaxPoolSize(64).setKeepAlive(true));
    HttpProxy proxy = HttpProxy.reverseProxy(client).origin(artifacts.getPort() < 0 ? 80 : artifacts.getPort(), artifacts.getHost());
    proxy.addInterceptor(new ProxyInterceptor() {
      /** The artifacts service away (restarting): a problem clients retry on, not the proxy's bare 502. */
      @Override
      public Future<ProxyResponse> handleProxyRequest(ProxyContext context) {
        return context.sendRequest().recover(failure -> {
          byte[] body = problemJson(Problem.of(503, "the artifacts service is not reachable (restarting?); retry shortly", null));
          ProxyResponse r = context.request().response().setStatusCode(503).putHeader("Content-Type", Problem.MEDIA_TYPE)
              .putHeader("Retry-After", "5");
          r.setBody(Body.body(Buffer.buffer(body)));
          return Future.succeededFuture(r);
        });
      }
    });
    for (String path : ARTIFACT_PATHS) {
      router.route(path).order(-900).handler(rc -> proxy.handle(rc.request()));
      router.route(path + "/*").order(-900).handler(rc -> proxy.handle(rc.request()));
    }
  }

  /**
   * This service's metrics count every tenant's jobs, and its address is the public one: they are served
   * only to the platform's own scraper, which sends the internal token as a bearer token (Prometheus'
   * {@code authorization}); the internal services' metrics are reachable only inside the platform.
   */
  void metricsAccess(RoutingContext rc) {
    String given = rc.request().getHeader("Authorization");
    byte[] expected = ("Bearer " + config.internalToken()).getBytes(StandardCharsets.UTF_8);
    if (given == null || !MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), expected)) {
      rc.response().putHeader("WWW-Authenticate", "Bearer");
      refuse(rc, new ApiException(401, "the metrics are the operator's: send Authorization: Bearer <the platform's internal token>", null));
      return;
    }
    rc.next();
  }

  void authenticate(RoutingContext rc) {
    var headers = rc.request().headers();
    headers.remove(InternalCaller.TENANT);
    headers.remove(InternalCaller.TOKEN);
    headers.remove(ADMIN);
    Optional<KeyRegistry.Principal> principal = keys.authenticate(headers.get("Authorization"));
    if (principal.isEmpty()) {
      rc.response().putHeader("WWW-Authenticate", "Bearer");
      refuse(rc, new ApiException(401, "missing or unknown API key: send Authorization: Bearer <key>", null));
      return;
    }
    if (controlCharacters(rc.request().uri())) {
      refuse(rc, ApiException.badRequest("the path or query holds a control character", null));
      return;
    }
    Optional<ApiException> tooLarge = jsonBodyTooLarge(rc.request().method().name(), headers);
    if (tooLarge.isPresent()) {
      refuse(rc, tooLarge.get());
      return;
    }
    headers.set(InternalCaller.TENANT, principal.get().tenant());
    headers.set(InternalCaller.TOKEN, config.internalToken());
    headers.set(ADMIN, Boolean.toString(principal.get().admin()));
    rc.next();
  }

  /** A control character in the URI, raw or percent-encoded (%00–%1F, %7F): never part of an id or a name. */
  static boolean controlCharacters(String uri) {
    if (RequestValues.hasControl(uri)) {
      return true;
    }
    for (int i = uri.indexOf('%'); i >= 0 && i + 2 < uri.length(); i = uri.indexOf('%', i + 1)) {
      int hi = Character.digit(uri.charAt(i + 1), 16);
      int lo = Character.digit(uri.charAt(i + 2), 16);
      if (hi >= 0 && lo >= 0 && (hi < 2 || (hi == 7 && lo == 15))) {
        return true;
      }
    }
    return false;
  }

  /**
   * JSON bodies are small, whichever service reads them: refused before they are read when their length
   * passes the limit, or when they come without a length (chunked, or an HTTP/2 stream), which could be
   * endless. (This service's own endpoints are also held to it by quarkus.http.limits.max-body-size.)
   */
  Optional<ApiException> jsonBodyTooLarge(String method, io.vertx.core.MultiMap headers) {
    String type = headers.get("Content-Type");
    String mime = type == null ? "" : type.split(";", 2)[0].trim().toLowerCase(java.util.Locale.ROOT);
    if (!(mime.equals("application/json") || (mime.startsWith("application/") && mime.endsWith("+json")))) {
      return Optional.empty();
    }
    long limit = config.limits().jsonBodyBytes().asLongValue();
    String length = headers.get("Content-Length");
    if (length == null) {
      boolean hasBody = method.equals("POST") || method.equals("PUT") || method.equals("PATCH");
      return hasBody ? Optional.of(new ApiException(411, "send JSON bodies with a Content-Length", null)) : Optional.empty();
    }
    long n;
    try {
      n = Long.parseLong(length.trim());
    } catch (NumberFormatException e) {
      return Optional.of(ApiException.badRequest("Content-Length is not a number", null));
    }
    return n <= limit ? Optional.empty() : Optional.of(ApiException.tooLarge("the JSON body is " + n + " bytes; the limit is " + limit,
        null, "peft.limits.json-body-bytes", limit));
  }

  private byte[] problemJson(Problem p) {
    try {
      return json.writeValueAsBytes(p);
    } catch (com.fasterxml.jackson.core.JsonProcessingException impossible) {
      return ("{\"status\":" + p.status() + "}").getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
  }

  private void refuse(RoutingContext rc, ApiException e) {
    Buffer body = Buffer.buffer(problemJson(e.problem()));
    int status = e.problem().status();
    if (status == 411 || status == 413) {
      rc.response().putHeader("Connection", "close"); // the body is left unread
    }
    rc.response().setStatusCode(status).putHeader("Content-Type", Problem.MEDIA_TYPE).end(body);
  }
}

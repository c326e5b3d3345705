package io.peftplatform.deploy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Just enough of a Kubernetes API server for Helm's {@code lookup} of Secrets: the discovery document of
 * the core group and GETs of Secrets, which answer 404 unless a test put one there. The kubeconfig Helm
 * reads (KUBECONFIG, set by the build for this module's tests) points at it.
 */
final class FakeKubernetesApi {
  private static FakeKubernetesApi instance;

  private final HttpServer server;
  private final Map<String, Map<String, String>> secrets = new ConcurrentHashMap<>();

  private FakeKubernetesApi() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", this::handle);
    server.start();
  }

  /** The server of this JVM, started (and the kubeconfig written) on first use. */
  static synchronized FakeKubernetesApi get() {
    if (instance == null) {
      try {
        instance = new FakeKubernetesApi();
        String kubeconfig = System.getenv("KUBECONFIG");
        if (kubeconfig == null) {
          throw new IllegalStateException("KUBECONFIG is not set: the build sets it for this module's tests");
        }
        Files.writeString(Path.of(kubeconfig), String.join("\n",
            "apiVersion: v1",
            "kind: Config",
            "clusters: [{name: fake, cluster: {server: \"http://127.0.0.1:" + instance.server.getAddress().getPort() + "\"}}]",
            "users: [{name: fake, user: {token: fake}}]",
            "contexts: [{name: fake, context: {cluster: fake, user: fake}}]",
            "current-context: fake", ""));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return instance;
  }

  /** A Secret that exists in the cluster, as a previous install left it. */
  void putSecret(String namespace, String name, Map<String, String> data) {
    secrets.put(namespace + "/" + name, data);
  }

  void clear() {
    secrets.clear();
  }

  private void handle(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getPath();
    if (path.equals("/api")) {
      respond(ex, 200, "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"],\"serverAddressByClientCIDRs\":[]}");
    } else if (path.equals("/api/v1")) {
      respond(ex, 200, "{\"kind\":\"APIResourceList\",\"groupVersion\":\"v1\",\"resources\":[{\"name\":\"secrets\","
          + "\"singularName\":\"secret\",\"namespaced\":true,\"kind\":\"Secret\",\"verbs\":[\"get\",\"list\"]}]}");
    } else if (path.equals("/apis")) {
      respond(ex, 200, "{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":[]}");
    } else if (path.matches("/api/v1/namespaces/[^/]+/secrets/[^/]+")) {
      String[] parts = path.split("/");
      Map<String, String> data = secrets.get(parts[4] + "/" + parts[6]);
      if (data == null) {
        respond(ex, 404, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"NotFound\",\"code\":404}");
      } else {
        StringBuilder encoded = new StringBuilder();
        data.forEach((k, v) -> encoded.append(encoded.length() == 0 ? "" : ",").append('"').append(k).append("\":\"")
            .append(Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8))).append('"'));
        respond(ex, 200, "{\"kind\":\"Secret\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"" + parts[6] + "\",\"namespace\":\""
            + parts[4] + "\"},\"type\":\"Opaque\",\"data\":{" + encoded + "}}");
      }
    } else {
      respond(ex, 404, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"NotFound\",\"code\":404}");
    }
  }

  private static void respond(HttpExchange ex, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", "application/json");
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }
}

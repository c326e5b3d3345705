package io.peftplatform.artifacts.service;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.Proxy;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import okhttp3.Dns;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;

/**
 * HTTP for imports, where a tenant chooses the URL. Only public addresses are reached: a host is resolved
 * once and refused when any of its addresses is loopback, link-local, private (RFC 1918, unique local),
 * carrier-grade NAT, multicast or unspecified (IPv4, IPv6 and IPv4-mapped IPv6); the connection then uses
 * exactly the addresses checked (no second lookup to rebind). Redirects are followed by hand, each hop
 * checked like the first. The Hub token goes only to the Hub endpoint's own origin. Downloads stop at a
 * byte budget and a deadline shared by every request of one import.
 */
final class ImportHttp {
  /** A URL the policy does not allow; the message says why. */
  static final class Refused extends IOException {
    Refused(String message) {
      super(message);
    }
  }

  /** How a refused address leaves the lookup: OkHttp takes only UnknownHostException from a resolver. */
  private static final class RefusedHost extends UnknownHostException {
    RefusedHost(String message) {
      super(message);
    }
  }

  /** Bytes and time one import may still spend. */
  static final class Budget {
    private final long deadline;
    private final long limitBytes;
    private final String limitName;
    private long bytes;

    Budget(Duration timeout, long limitBytes, String limitName) {
      this.deadline = System.nanoTime() + timeout.toNanos();
      this.limitBytes = limitBytes;
      this.limitName = limitName;
    }

    long remainingMillis() throws IOException {
      long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
      if (left <= 0) {
        throw new IOException("the import took longer than its time limit");
      }
      return left;
    }

    /** Counts bytes received; fails once they pass the limit. */
    void add(long n) throws Refused {
      ensureRoom(n);
      bytes += n;
    }

    /** Fails now if {@code n} more bytes would pass the limit (a declared Content-Length). */
    void ensureRoom(long n) throws Refused {
      if (bytes + n > limitBytes) {
        throw new Refused("the model is larger than the limit of " + limitBytes + " bytes (" + limitName + ")");
      }
    }

    long bytes() {
      return bytes;
    }
  }

  private final OkHttpClient client;
  private final HttpUrl hub;
  private final String hubToken;
  private final Set<String> trustedHosts;
  private final int maxRedirects;

  ImportHttp(String hubEndpoint, String hubToken, List<String> trustedHosts, int maxRedirects) {
    this.hub = HttpUrl.get(hubEndpoint);
    this.hubToken = hubToken == null || hubToken.isBlank() ? null : hubToken;
    this.trustedHosts = new java.util.HashSet<>();
    trustedHosts.forEach(h -> this.trustedHosts.add(h.toLowerCase(Locale.ROOT)));
    this.maxRedirects = maxRedirects;
    this.client = new OkHttpClient.Builder()
        .proxy(Proxy.NO_PROXY) // a proxy would resolve the host itself, past the check
        .dns(ImportHttp::lookupPublic)
        .followRedirects(false)
        .followSslRedirects(false)
        .connectTimeout(Duration.ofSeconds(20))
        .readTimeout(Duration.ofSeconds(60))
        .build();
  }

  /** The Hub endpoint this client sends its token to. */
  HttpUrl hub() {
    return hub;
  }

  /**
   * Checks a URL a tenant gave, before anything is fetched: https, and a host that is a name or a public
   * address. Names are resolved and checked when connecting. The Hub endpoint's own origin and the
   * operator's trusted hosts are exempt.
   */
  void checkUrl(HttpUrl url) throws Refused {
    boolean trusted = trusted(url);
    if (!url.isHttps() && !trusted) {
      throw new Refused(url.scheme() + ":// is not allowed: only https:// URLs are imported");
    }
    if (!trusted && isIpLiteral(url.host())) {
      try {
        check(url.host(), List.of(InetAddress.getByName(url.host())));
      } catch (UnknownHostException e) {
        throw new Refused("cannot read the address " + url.host());
      }
    }
  }

  /** A small body (a file list), at most {@code maxBytes}. */
  String getText(HttpUrl url, Budget budget, long maxBytes) throws IOException {
    try (Response r = open(url, budget)) {
      byte[] body = r.body().byteStream().readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
      if (body.length > maxBytes) {
        throw new Refused(url.redact() + " answered more than " + maxBytes + " bytes");
      }
      return new String(body, java.nio.charset.StandardCharsets.UTF_8);
    }
  }

  /** Downloads to {@code target} (written beside it, then moved), counting against the budget. */
  void download(HttpUrl url, Path target, Budget budget) throws IOException {
    Files.createDirectories(target.toAbsolutePath().getParent());
    Path part = target.resolveSibling(target.getFileName() + ".part");
    try (Response r = open(url, budget)) {
      budget.ensureRoom(Math.max(0, r.body().contentLength()));
      try (InputStream in = r.body().byteStream(); OutputStream out = Files.newOutputStream(part)) {
        byte[] buf = new byte[1 << 16];
        for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
          budget.add(n);
          out.write(buf, 0, n);
        }
      }
      Files.move(part, target, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(part);
    }
  }

  /** A 200 response for the URL, following redirects; anything else fails with what was answered. */
  private Response open(HttpUrl url, Budget budget) throws IOException {
    HttpUrl current = url;
    for (int hop = 0; ; hop++) {
      checkUrl(current);
      Request.Builder b = new Request.Builder().url(current);
      if (hubToken != null && sameOrigin(current, hub)) {
        b.header("Authorization", "Bearer " + hubToken);
      }
      OkHttpClient.Builder call = client.newBuilder().callTimeout(Duration.ofMillis(budget.remainingMillis()));
      if (trusted(current)) {
        call.dns(Dns.SYSTEM);
      }
      OkHttpClient timed = call.build();
      Response r;
      try {
        r = timed.newCall(b.build()).execute();
      } catch (IOException e) {
        java.util.Optional<Refused> refused = refusal(e);
        if (refused.isPresent()) {
          throw refused.get();
        }
        throw e;
      }
      if (r.isRedirect()) {
        String location = r.header("Location");
        r.close();
        HttpUrl next = location == null ? null : current.resolve(location);
        if (next == null) {
          throw new IOException(current.redact() + " redirected to an unusable location");
        }
        if (hop + 1 > maxRedirects) {
          throw new Refused(url.redact() + " redirected more than " + maxRedirects + " times");
        }
        current = next;
        continue;
      }
      if (r.code() != 200) {
        int code = r.code();
        r.close();
        throw new IOException("GET " + current.redact() + " answered " + code
            + (sameOrigin(current, hub) && (code == 401 || code == 403) ? " (gated or private: set HF_TOKEN)" : ""));
      }
      return r;
    }
  }

  /** The refusal behind a failed call, wherever OkHttp put it (cause or suppressed). */
  private static java.util.Optional<Refused> refusal(Throwable t) {
    if (t == null) {
      return java.util.Optional.empty();
    }
    if (t instanceof RefusedHost r) {
      return java.util.Optional.of(new Refused(r.getMessage()));
    }
    for (Throwable s : t.getSuppressed()) {
      java.util.Optional<Refused> found = refusal(s);
      if (found.isPresent()) {
        return found;
      }
    }
    return t.getCause() == t ? java.util.Optional.empty() : refusal(t.getCause());
  }

  private static boolean sameOrigin(HttpUrl a, HttpUrl b) {
    return a.scheme().equals(b.scheme()) && a.host().equalsIgnoreCase(b.host()) && a.port() == b.port();
  }

  /** The Hub endpoint's own origin (any path), or a host the operator trusts (any port). */
  private boolean trusted(HttpUrl url) {
    return sameOrigin(url, hub) || trustedHosts.contains(url.host().toLowerCase(Locale.ROOT));
  }

  /** The resolver of every untrusted call: the addresses it returns are the ones connected to. */
  private static List<InetAddress> lookupPublic(String host) throws UnknownHostException {
    List<InetAddress> addresses = Dns.SYSTEM.lookup(host);
    try {
      check(host, addresses);
    } catch (Refused e) {
      throw new RefusedHost(e.getMessage());
    }
    return addresses;
  }

  /** Refuses the host if any address it has is not a public unicast one. */
  static void check(String host, List<InetAddress> addresses) throws Refused {
    for (InetAddress a : addresses) {
      String kind = nonPublicKind(a);
      if (kind != null) {
        String shown = a.getHostAddress();
        throw new Refused(host.equals(shown) || host.equals("[" + shown + "]") ? host + " is " + kind + " address, which imports may not reach"
            : host + " resolves to " + shown + ", " + kind + " address, which imports may not reach");
      }
    }
  }

  /** Why an address is not public ("a loopback", "a private" …), or null for a public unicast address. */
  static String nonPublicKind(InetAddress a) {
    if (a instanceof Inet6Address v6) {
      byte[] b = v6.getAddress();
      boolean mapped = true;
      for (int i = 0; i < 10; i++) {
        mapped &= b[i] == 0;
      }
      if (mapped && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff) {
        return embedded(b, 12);
      }
      // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address: judge that one.
      if (b[0] == 0 && (b[1] & 0xff) == 0x64 && (b[2] & 0xff) == 0xff && (b[3] & 0xff) == 0x9b) {
        return embedded(b, 12);
      }
      if ((b[0] & 0xff) == 0x20 && b[1] == 0x02) {
        return embedded(b, 2);
      }
      if ((b[0] & 0xfe) == 0xfc) {
        return "a unique local (private)";
      }
      if ((b[0] & 0xff) == 0x20 && (b[1] & 0xff) == 0x01 && b[2] == 0x0d && (b[3] & 0xff) == 0xb8) {
        return "a documentation";
      }
    }
    if (a.isAnyLocalAddress()) {
      return "an unspecified";
    }
    if (a.isLoopbackAddress()) {
      return "a loopback";
    }
    if (a.isLinkLocalAddress()) {
      return "a link-local";
    }
    if (a.isSiteLocalAddress()) {
      return "a private";
    }
    if (a.isMulticastAddress()) {
      return "a multicast";
    }
    if (a instanceof Inet4Address) {
      byte[] b = a.getAddress();
      int first = b[0] & 0xff;
      int second = b[1] & 0xff;
      if (first == 0) {
        return "an unspecified";
      }
      if (first == 100 && second >= 64 && second <= 127) {
        return "a carrier-grade NAT (private)";
      }
      if (first == 198 && (second == 18 || second == 19)) {
        return "a benchmarking (private)";
      }
      if (first >= 240) {
        return "a reserved";
      }
    }
    return null;
  }

  private static String embedded(byte[] v6, int at) {
    try {
      return nonPublicKind(InetAddress.getByAddress(new byte[] {v6[at], v6[at + 1], v6[at + 2], v6[at + 3]}));
    } catch (UnknownHostException impossible) {
      return "an unreadable";
    }
  }

  private static boolean isIpLiteral(String host) {
    return host.indexOf(':') >= 0 || host.matches("[0-9.]+");
  }
}

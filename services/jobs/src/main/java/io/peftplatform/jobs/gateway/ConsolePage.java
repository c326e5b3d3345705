package io.peftplatform.jobs.gateway;

import io.vertx.ext.web.Router;
import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The web console's page (META-INF/resources/index.html) goes out with a Content-Security-Policy: script
 * only from this origin plus the page's one inline script (its import map, allowed by its hash, taken
 * from the page itself at start), requests only to this origin, no framing. The API key lives in the
 * page's session storage, so no text from a tenant may ever run there as script.
 */
@ApplicationScoped
public class ConsolePage {
  static final String PAGE = "META-INF/resources/index.html";
  private static final Pattern INLINE_SCRIPT = Pattern.compile("<script type=\"importmap\">(.*?)</script>", Pattern.DOTALL);

  private String policy;

  @PostConstruct
  void init() {
    policy = policy(page());
  }

  void routes(@Observes Router router) {
    for (String path : new String[] {"/", "/index.html"}) {
      router.get(path).order(-1100).handler(rc -> {
        rc.response().putHeader("Content-Security-Policy", policy).putHeader("X-Content-Type-Options", "nosniff")
            .putHeader("Referrer-Policy", "no-referrer");
        rc.next();
      });
    }
  }

  public String policy() {
    return policy;
  }

  static String policy(String page) {
    Matcher m = INLINE_SCRIPT.matcher(page);
    StringBuilder scripts = new StringBuilder("'self'");
    while (m.find()) {
      scripts.append(" 'sha256-").append(sha256(m.group(1))).append('\'');
    }
    return "default-src 'self'; script-src " + scripts + "; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
        + "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
  }

  private static String sha256(String s) {
    try {
      return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException impossible) {
      throw new IllegalStateException(impossible);
    }
  }

  private static String page() {
    try (InputStream in = Thread.currentThread().getContextClassLoader().getResourceAsStream(PAGE)) {
      if (in == null) {
        throw new IllegalStateException("the console's page " + PAGE + " is not on the class path");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

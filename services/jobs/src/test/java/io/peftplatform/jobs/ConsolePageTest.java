package io.peftplatform.jobs;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The web console is served at the API's address without a key (the page asks for one), with every
 * script, style and module it names, under a policy that lets no other script run; the API behind it
 * still wants a key.
 */
@QuarkusTest
class ConsolePageTest {
  @Test
  void thePageAndEverythingItLoadsAreServedUnderAPolicyAllowingOnlyItsOwnScripts() throws Exception {
    Response page = given().get("/");
    page.then().statusCode(200).contentType("text/html");
    String html = page.asString();
    String policy = page.header("Content-Security-Policy");
    assertThat(policy).contains("script-src 'self' 'sha256-").contains("frame-ancestors 'none'").doesNotContain("unsafe-eval");
    assertThat(policy.substring(policy.indexOf("script-src"), policy.indexOf(';', policy.indexOf("script-src")))).doesNotContain("unsafe-inline");
    Matcher inline = Pattern.compile("<script type=\"importmap\">(.*?)</script>", Pattern.DOTALL).matcher(html);
    assertThat(inline.find()).isTrue();
    String hash = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(inline.group(1).getBytes(StandardCharsets.UTF_8)));
    assertThat(policy).contains("'sha256-" + hash + "'");
    assertThat(page.header("X-Content-Type-Options")).isEqualTo("nosniff");

    // Every path the page names (and the import map's) answers, without version numbers in them.
    List<String> paths = new ArrayList<>();
    Matcher refs = Pattern.compile("(?:href|src)=\"(/[^\"]+)\"|\"(/(?:webjars|_static)/[^\"]+)\"").matcher(html);
    while (refs.find()) {
      paths.add(refs.group(1) != null ? refs.group(1) : refs.group(2));
    }
    assertThat(paths).contains("/console/app.js", "/console/pages/job.js", "/console/console.css", "/webjars/preact/dist/preact.module.js", "/_static/htm/dist/htm.module.js",
        "/webjars/uplot/dist/uPlot.iife.min.js");
    for (String path : paths) {
      if (path.startsWith("/q/")) {
        continue;
      }
      given().get(path).then().statusCode(200);
    }
    given().get("/v1/fine_tuning/jobs").then().statusCode(401);
  }
}

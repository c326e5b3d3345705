package io.peftplatform.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * services/Dockerfile, read as the images' recipe (no Docker daemon here to build it): multi-stage, the
 * native caches filled at build time by classes that exist, the final stage running as the chart's
 * non-root user, and the image, the chart and the fill step naming the same cache directories, so a pod
 * on a read-only root filesystem finds its libraries where they were unpacked.
 */
class DockerfileTest {
  static final Path DOCKERFILE = ServiceSettings.ROOT.resolve("services/Dockerfile");
  private static final Pattern CACHEDIR = Pattern.compile("-Dorg\\.bytedeco\\.javacpp\\.cachedir=(\\S+?)[\"\\s]");
  private static final Pattern JNA = Pattern.compile("-Djna\\.boot\\.library\\.path=(\\S+?)[\"\\s]");

  /** The instructions, continuation lines joined, comments left out. */
  static List<String> instructions() throws IOException {
    List<String> out = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : Files.readAllLines(DOCKERFILE)) {
      if (line.strip().startsWith("#") || (line.isBlank() && current.isEmpty())) {
        continue;
      }
      String s = line.strip();
      if (s.endsWith("\\")) {
        current.append(s, 0, s.length() - 1).append(' ');
      } else {
        out.add(current.append(s).toString().strip());
        current.setLength(0);
      }
    }
    return out;
  }

  /** The final stage's instructions: those after the last FROM. */
  static List<String> finalStage(List<String> all) {
    int last = 0;
    for (int i = 0; i < all.size(); i++) {
      if (all.get(i).startsWith("FROM ")) {
        last = i;
      }
    }
    return all.subList(last, all.size());
  }

  @Test
  void theImageIsBuiltInStagesAndRunsAsTheChartsNonRootUser() throws IOException {
    List<String> all = instructions();
    assertThat(all.stream().filter(i -> i.startsWith("FROM "))).as("stages").hasSizeGreaterThanOrEqualTo(2);
    List<String> last = finalStage(all);
    String user = last.stream().filter(i -> i.startsWith("USER ")).reduce((a, b) -> b).orElseThrow().substring(5).strip();
    JsonNode values = Charts.YAML.readTree(Charts.DIR.resolve("values.yaml").toFile());
    assertThat(user).isEqualTo(values.path("podSecurityContext").path("runAsUser").asText()).isNotEqualTo("0");
    assertThat(last).as("the final stage takes the natives from the build stage")
        .anyMatch(i -> i.startsWith("COPY --from=") && i.contains("/opt/peft/natives"));
    assertThat(last).noneMatch(i -> i.startsWith("RUN ") && i.contains("java "));
  }

  @Test
  void theCachesAreFilledByClassesThatExistAndNamedAlikeByTheImageAndTheChart() throws IOException {
    List<String> all = instructions();
    String fill = all.stream().filter(i -> i.startsWith("RUN ") && i.contains("NativeCache")).findFirst().orElseThrow();
    for (String main : List.of("io.peftplatform.llama.nn.NativeCache", "io.peftplatform.text.TokenizerNatives")) {
      assertThat(fill).contains(main);
      String module = main.contains(".llama.") ? "llama" : "text";
      assertThat(ServiceSettings.ROOT.resolve("shared-libs/" + module + "/src/main/java/" + main.replace('.', '/') + ".java")).exists();
    }
    String cacheDir = group(CACHEDIR, fill);
    String jnaDir = group(JNA, fill);
    String djlDir = group(Pattern.compile("DJL_CACHE_DIR=(\\S+)\\s"), fill);
    String env = finalStage(all).stream().filter(i -> i.startsWith("ENV ")).reduce("", String::concat);
    assertThat(group(CACHEDIR, env)).isEqualTo(cacheDir);
    assertThat(group(JNA, env)).isEqualTo(jnaDir);
    assertThat(env).contains("DJL_CACHE_DIR=" + djlDir);

    // The chart replaces JAVA_OPTS for the services with ND4J: it must keep the same directories.
    List<JsonNode> docs = Charts.render(Charts.withBackends());
    for (String service : List.of("training", "merging")) {
      Map<String, JsonNode> env0 = HelmChartTest.env(Charts.find(docs, "Deployment", "peft-" + service));
      String javaOpts = env0.get("JAVA_OPTS").path("value").asText() + " ";
      assertThat(group(CACHEDIR, javaOpts)).as(service).isEqualTo(cacheDir);
      assertThat(group(JNA, javaOpts)).as(service).isEqualTo(jnaDir);
      assertThat(env0).as(service + " leaves DJL_CACHE_DIR to the image").doesNotContainKey("DJL_CACHE_DIR");
    }
  }

  private static String group(Pattern p, String text) {
    Matcher m = p.matcher(text + " ");
    assertThat(m.find()).as("%s in %s", p, text).isTrue();
    return m.group(1);
  }
}

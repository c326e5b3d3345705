package io.peftplatform.testsupport;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A scrape of a {@code /q/metrics} page in Prometheus' text format, for tests: each sample's name, labels
 * and value, and lookups by name and a subset of labels. An exemplar after a sample (the trace it came
 * from) is left out.
 */
public final class PrometheusScrape {
  /** One sample line. */
  public record Sample(String name, Map<String, String> labels, double value) {}

  private static final Pattern LINE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})?\\s+(\\S+)(?:\\s+\\d+)?$");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\",?");

  private final List<Sample> samples;

  private PrometheusScrape(List<Sample> samples) {
    this.samples = samples;
  }

  public static PrometheusScrape parse(String text) {
    List<Sample> out = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int exemplar = line.indexOf(" # {"); // OpenMetrics: the trace of a sample (span_id, trace_id) follows it
      Matcher m = LINE.matcher((exemplar < 0 ? line : line.substring(0, exemplar)).strip());
      if (!m.matches()) {
        throw new IllegalArgumentException("not a Prometheus sample line: " + line);
      }
      Map<String, String> labels = new LinkedHashMap<>();
      if (m.group(2) != null) {
        Matcher l = LABEL.matcher(m.group(2));
        while (l.find()) {
          labels.put(l.group(1), l.group(2).replace("\\\"", "\"").replace("\\\\", "\\"));
        }
      }
      out.add(new Sample(m.group(1), labels, Double.parseDouble(m.group(3).replace("+Inf", "Infinity").replace("-Inf", "-Infinity"))));
    }
    return new PrometheusScrape(out);
  }

  public List<Sample> samples() {
    return samples;
  }

  /** The samples of {@code name} whose labels include every given label, in page order. */
  public List<Sample> all(String name, Map<String, String> labels) {
    return samples.stream().filter(s -> s.name().equals(name) && s.labels().entrySet().containsAll(labels.entrySet())).toList();
  }

  /** The value of the one sample of {@code name} with these labels (among others), if there is one. */
  public OptionalDouble value(String name, Map<String, String> labels) {
    List<Sample> found = all(name, labels);
    if (found.size() > 1) {
      throw new IllegalStateException(found.size() + " samples of " + name + " match " + labels + ": " + found);
    }
    return found.isEmpty() ? OptionalDouble.empty() : OptionalDouble.of(found.get(0).value());
  }

  /** The sum over the samples of {@code name} with these labels (0 when none). */
  public double sum(String name, Map<String, String> labels) {
    return all(name, labels).stream().mapToDouble(Sample::value).sum();
  }
}

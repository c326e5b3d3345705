package io.peftplatform.merging;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** How task vectors combine (docs/merging.md gives each formula). */
public enum MergeMethod {
  /** Σ wᵢ τᵢ / Σ wᵢ: the weighted average of the adapted models. */
  LINEAR,
  /** Σ wᵢ τᵢ (Ilharco et al., "Editing Models with Task Arithmetic"). */
  TASK_ARITHMETIC,
  /** Trim each τᵢ to its largest entries, elect a sign per entry, average those that agree (Yadav et al.). */
  TIES,
  /** Drop entries at random, rescale the rest by 1/density (Yu et al.), then task arithmetic. */
  DARE_LINEAR,
  /** DARE's random drop, then TIES' sign election and disjoint average. */
  DARE_TIES;

  /** As users write it: linear, task_arithmetic, ties, dare_linear, dare_ties. */
  public String cliName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public boolean usesDensity() {
    return this != LINEAR && this != TASK_ARITHMETIC;
  }

  boolean randomDrop() {
    return this == DARE_LINEAR || this == DARE_TIES;
  }

  boolean signConsensus() {
    return this == TIES || this == DARE_TIES;
  }

  /** Accepts the CLI names with '-' or '_'. */
  public static MergeMethod byName(String name) {
    String key = name.trim().toUpperCase(Locale.ROOT).replace('-', '_');
    for (MergeMethod m : values()) {
      if (m.name().equals(key)) {
        return m;
      }
    }
    throw new IllegalArgumentException("unknown merge method '" + name + "'; expected one of "
        + Arrays.stream(values()).map(MergeMethod::cliName).collect(Collectors.joining(", ")));
  }
}

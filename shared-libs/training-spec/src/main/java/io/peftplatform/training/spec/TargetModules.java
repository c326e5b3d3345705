package io.peftplatform.training.spec;

import io.peftplatform.llama.config.WeightNames;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Which linear modules get an adapter, as PEFT's {@code target_modules} says: names matched against
 * the end of each module's path ({@code q_proj} matches {@code model.layers.3.self_attn.q_proj}), or
 * {@code all-linear} for every linear layer of the decoder (the LM head excluded).
 */
public final class TargetModules {
  public static final String ALL_LINEAR = "all-linear";

  private TargetModules() {}

  /** Parses "q_proj,v_proj" or "all-linear". */
  public static List<String> parse(String text) {
    List<String> names = Arrays.stream(text.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    if (names.isEmpty()) {
      throw new IllegalArgumentException("target modules: none given");
    }
    if (names.contains(ALL_LINEAR)) {
      if (names.size() > 1) {
        throw new IllegalArgumentException("target modules: all-linear cannot be combined with other names");
      }
      return List.of(ALL_LINEAR);
    }
    for (String n : names) {
      String last = n.substring(n.lastIndexOf('.') + 1);
      if (!WeightNames.LINEAR_MODULES.contains(last)) {
        throw new IllegalArgumentException("target module '" + n + "' is not a linear module of this architecture; choose from "
            + String.join(", ", WeightNames.LINEAR_MODULES) + " or all-linear");
      }
    }
    return names;
  }

  /** Whether module (a full path such as model.layers.0.mlp.up_proj) is targeted. */
  public static boolean matches(List<String> targets, String module) {
    for (String t : targets) {
      if (t.equals(ALL_LINEAR) || module.equals(t) || module.endsWith("." + t)) {
        return true;
      }
    }
    return false;
  }

  /** Every targeted module path of a model with the given number of layers, in layer then forward order. */
  public static List<String> select(List<String> targets, int layers) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < layers; i++) {
      for (String m : WeightNames.LINEAR_MODULES) {
        String path = WeightNames.linearModule(i, m);
        if (matches(targets, path)) {
          out.add(path);
        }
      }
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("target modules " + targets + " match no module of the model");
    }
    return out;
  }
}

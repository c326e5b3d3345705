package io.peftplatform.artifacts.service;

import java.util.Set;

/** The files of a Hugging Face model directory the platform keeps. */
final class ModelFiles {
  private static final Set<String> NAMED = Set.of("config.json", "generation_config.json", "model.safetensors.index.json",
      "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json");

  private ModelFiles() {}

  static boolean wanted(String name) {
    return NAMED.contains(name) || (name.endsWith(".safetensors") && !name.contains("/"));
  }

  /** A name a user may upload: a plain file name, no directories. */
  static boolean safeName(String name) {
    return name != null && name.matches("[A-Za-z0-9._-]{1,200}") && !name.startsWith(".");
  }
}

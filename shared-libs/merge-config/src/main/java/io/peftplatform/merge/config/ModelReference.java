package io.peftplatform.merge.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Function;

/**
 * A model of a merge: a Hugging Face directory, or mergekit's {@code model+adapter} (a LoRA-family
 * adapter folded into its base first). The {@code resolver} turns each half of a reference into a
 * directory: a path on the CLI, a registered id on the platform.
 */
public record ModelReference(String name, Path model, Optional<Path> adapter) {

  /** The directory a name stands for; throws {@link MergeConfigException} naming it when there is none. */
  @FunctionalInterface
  public interface Resolver extends Function<String, Path> {}

  /** Local paths, relative to {@code dir} (the configuration file's directory). */
  public static Resolver paths(Path dir) {
    return name -> {
      Path p = dir.resolve(name).normalize();
      if (!Files.isDirectory(p)) {
        throw new MergeConfigException(name + ": no such model directory (" + p + ")");
      }
      return p;
    };
  }

  public static ModelReference resolve(String name, Resolver resolver) {
    int plus = name.lastIndexOf('+');
    if (plus > 0 && plus < name.length() - 1) {
      // mergekit's model+adapter, unless the whole name is a model (a path may hold '+')
      try {
        return new ModelReference(name, resolver.apply(name), Optional.empty());
      } catch (MergeConfigException notWhole) {
        return new ModelReference(name, resolver.apply(name.substring(0, plus)), Optional.of(resolver.apply(name.substring(plus + 1))));
      }
    }
    return new ModelReference(name, resolver.apply(name), Optional.empty());
  }
}

package io.peftplatform.merger;

import io.peftplatform.llama.nn.NativeBuild;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;

/** The merging service's entry point: ND4J's native build chosen for this CPU ({@link NativeBuild}) before Quarkus starts. */
@QuarkusMain
public final class Main {
  public static void main(String... args) {
    System.err.println("ND4J native build: " + NativeBuild.select() + " (" + NativeBuild.PROPERTY + ")");
    Quarkus.run(args);
  }
}

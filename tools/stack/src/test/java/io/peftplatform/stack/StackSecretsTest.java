package io.peftplatform.stack;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** What the local stack keeps on disk is its owner's alone, and its secrets stay out of the logs. */
class StackSecretsTest {
  @Test
  void theDataDirectoryAndTheSecretsInItAreOwnerOnly() throws Exception {
    Stack stack = RunningStack.get();
    Path data = stack.dataDir();
    assertThat(Files.getPosixFilePermissions(data)).isEqualTo(PosixFilePermissions.fromString("rwx------"));
    assertThat(Files.getPosixFilePermissions(data.resolve("stack.properties"))).isEqualTo(PosixFilePermissions.fromString("rw-------"));
    assertThat(Files.getPosixFilePermissions(data.resolve("s3/s3proxy.conf"))).isEqualTo(PosixFilePermissions.fromString("rw-------"));
    try (Stream<Path> leftovers = Files.list(data)) {
      assertThat(leftovers.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"));
    }
  }

  @Test
  void theAdminKeyAndTheInternalTokenAreNeverLogged() throws Exception {
    Stack stack = RunningStack.get();
    RunningStack.admin().listModels(null, 1); // the services have answered at least once
    try (Stream<Path> logs = Files.list(stack.dataDir().resolve("logs"))) {
      for (Path log : logs.toList()) {
        String text = Files.readString(log);
        assertThat(text).as(log.toString()).doesNotContain(stack.adminKey()).doesNotContain(stack.internalToken());
      }
    }
  }
}

package io.peftplatform.testsupport;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/** A real S3 API server for @QuarkusTest: sets peft.storage.*. */
public class S3TestResource implements QuarkusTestResourceLifecycleManager {
  @Override
  public Map<String, String> start() {
    String[] s3 = SharedInfra.s3();
    return Map.of("peft.storage.endpoint", s3[0], "peft.storage.access-key", s3[1], "peft.storage.secret-key", s3[2]);
  }

  @Override
  public void stop() {
    // shared by every test class of the JVM; stops with it
  }
}

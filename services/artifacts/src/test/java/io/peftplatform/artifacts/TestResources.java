package io.peftplatform.artifacts;

import io.peftplatform.testsupport.KafkaTestResource;
import io.peftplatform.testsupport.PostgresTestResource;
import io.peftplatform.testsupport.S3TestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;

/** The real broker, object store and database every test of this service runs against (started once). */
@QuarkusTestResource(KafkaTestResource.class)
@QuarkusTestResource(S3TestResource.class)
@QuarkusTestResource(value = PostgresTestResource.class, initArgs = @ResourceArg(name = "database", value = "artifacts"))
public final class TestResources {
  public static final String TOKEN = "peft-test-internal-token-0123456789abcdef";

  private TestResources() {}
}

package io.peftplatform.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.peftplatform.jobs.service.JobsWarmUp;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

/** The start-up warm-up runs a job request's path on its made-up request and stores nothing. */
@QuarkusTest
class JobsWarmUpTest {
  @Inject JobsWarmUp warmUp;

  @Test
  void aMadeUpRequestGoesThroughAndNothingIsStored() {
    long jobs = QuarkusTransaction.requiringNew().call(() -> Job.count());
    assertThat(warmUp.warmUp()).isTrue();
    long after = QuarkusTransaction.requiringNew().call(() -> Job.count());
    assertThat(after).isEqualTo(jobs);
  }
}

package io.peftplatform.worker.service;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The start-up warm-up runs the first job's whole path (a run from a checkpoint directory and a JSONL file) without failing. */
class WorkerWarmUpTest {
  @Test
  void theFirstJobsPathRunsOnMadeUpInputs() {
    assertThat(WorkerWarmUp.warmUp()).isTrue();
  }
}

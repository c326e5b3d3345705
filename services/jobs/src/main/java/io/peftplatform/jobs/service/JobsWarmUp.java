package io.peftplatform.jobs.service;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftplatform.jobs.config.JobsConfig;
import io.peftplatform.jobs.rest.CreateJobRequest;
import io.peftplatform.jobs.rest.JobResponses.JobResponse;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.validation.Validator;
import org.jboss.logging.Logger;

/**
 * At start-up, in a background thread, a job request's path is run once on a made-up request, so the
 * first {@code POST /v1/fine_tuning/jobs} does not pay for building its JSON reader, its validation
 * metadata and its first queries (about half a second on a small CPU): the request read and validated,
 * resolved to a run spec, the model looked up, a job built and its response written. Nothing is stored.
 */
@ApplicationScoped
public class JobsWarmUp {
  private static final Logger LOG = Logger.getLogger(JobsWarmUp.class);
  static final String REQUEST = """
      {"model": "model-warm-up", "training_file": "file-warm-up", "validation_file": "file-warm-up-2",
       "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3, "batch_size": "auto",
         "learning_rate_multiplier": 1.0, "max_steps": 5}}},
       "adapter": {"type": "lora", "rank": 8}, "seed": 42, "suffix": "warm-up", "metadata": {"warm": "up"}}""";

  @Inject JobsConfig config;
  @Inject ObjectMapper json;
  @Inject Validator validator;
  @Inject ArtifactProjections projections;

  void onStart(@Observes StartupEvent e) {
    if (!config.warmUp()) {
      return;
    }
    Thread t = new Thread(this::warmUp, "jobs-warm-up");
    t.setDaemon(true);
    t.setPriority(Thread.MIN_PRIORITY);
    t.start();
  }

  /** @return whether the path went through (a failure only costs the first request time) */
  public boolean warmUp() {
    long start = System.nanoTime();
    try {
      CreateJobRequest body = json.readValue(REQUEST, CreateJobRequest.class);
      var violations = validator.validate(body);
      if (!violations.isEmpty()) {
        throw new IllegalStateException("the made-up request is not valid: " + violations);
      }
      JobRequest request = JobRequest.resolve(body);
      QuarkusTransaction.requiringNew().run(() -> projections.known("warm-up", ArtifactProjections.Kind.MODEL, request.model()));
      json.writeValueAsString(JobResponse.of(JobService.newJob("warm-up", request)));
      LOG.debugf("job requests warmed up in %d ms", (System.nanoTime() - start) / 1_000_000);
      return true;
    } catch (Exception ex) {
      LOG.warnf("warm-up failed (the first job request will take longer): %s", ex.toString());
      return false;
    }
  }
}

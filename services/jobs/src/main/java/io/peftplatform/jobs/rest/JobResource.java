package io.peftplatform.jobs.rest;

import com.fasterxml.jackson.databind.JsonNode;
import io.peftplatform.jobs.Job;
import io.peftplatform.jobs.JobEventEntry;
import io.peftplatform.jobs.rest.JobResponses.CheckpointResponse;
import io.peftplatform.jobs.rest.JobResponses.EventResponse;
import io.peftplatform.jobs.rest.JobResponses.JobResponse;
import io.peftplatform.service.page.ListPage;
import io.peftplatform.jobs.service.ArtifactProjections;
import io.peftplatform.jobs.service.JobEventStreams;
import io.peftplatform.jobs.service.JobRequest;
import io.peftplatform.jobs.service.JobService;
import io.smallrye.mutiny.Multi;
import io.peftplatform.service.problem.RequestValues;
import jakarta.inject.Inject;
import jakarta.validation.Valid;
import jakarta.transaction.Transactional;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.resteasy.reactive.RestStreamElementType;

/** /v1/fine_tuning/jobs, as OpenAI's API has it: create, list, read, cancel, events (a page, or live), checkpoints. */
@Path("/v1/fine_tuning/jobs")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "fine-tuning")
public class JobResource {
  @Inject JobService jobs;
  @Inject ArtifactProjections projections;
  @Inject Callers callers;
  @Inject JobEventStreams streams;

  @POST
  @Consumes(MediaType.APPLICATION_JSON)
  @Operation(summary = "Create a fine-tuning job", description = "OpenAI's request: `model`, `training_file`, `validation_file`, "
      + "`method` {type: supervised, supervised: {hyperparameters: {n_epochs, batch_size, learning_rate_multiplier, …}}}, `seed`, "
      + "`suffix`, `metadata`; `adapter` {type: lora|dora|nola|kronecker, rank, alpha, …} chooses the adapter (LoRA without it).")
  public JobResponse create(@Context HttpHeaders headers, @Valid CreateJobRequest body) {
    String tenant = callers.tenant(headers);
    JobRequest request = JobRequest.resolve(body);
    projections.awaitModelSettled(tenant, request.model(), "model");
    projections.awaitKnown(tenant, ArtifactProjections.Kind.DATASET, request.trainingFile(), "training_file");
    if (request.validationFile() != null) {
      projections.awaitKnown(tenant, ArtifactProjections.Kind.DATASET, request.validationFile(), "validation_file");
    }
    return JobResponse.of(jobs.create(tenant, request));
  }

  @GET
  @Transactional
  @Operation(summary = "List fine-tuning jobs", description = "Newest first, in cursor pages (`after`, `limit` up to 100, `has_more`); `status` filters.")
  public ListPage<JobResponse> list(@Context HttpHeaders headers, @QueryParam("after") String after,
      @QueryParam("limit") String limitParam, @QueryParam("status") String status) {
    int limit = RequestValues.limit(limitParam, 20, 100);
    return ListPage.firstOf(jobs.list(callers.tenant(headers), after, limit, status), limit, JobResponse::of, JobResponse::id);
  }

  @GET
  @Path("{id}")
  @Transactional
  @Operation(summary = "Read a fine-tuning job")
  public JobResponse get(@Context HttpHeaders headers, @PathParam("id") String id) {
    return JobResponse.of(jobs.get(callers.tenant(headers), id));
  }

  @POST
  @Path("{id}/cancel")
  @Operation(summary = "Cancel a fine-tuning job", description = "A running job stops after its current step.")
  public JobResponse cancel(@Context HttpHeaders headers, @PathParam("id") String id) {
    return JobResponse.of(jobs.cancel(callers.tenant(headers), id));
  }

  @POST
  @Path("{id}/pause")
  @Operation(summary = "Pause a fine-tuning job", description = "Its worker saves a checkpoint after the current step and stops; the job is `paused` until resumed.")
  public JobResponse pause(@Context HttpHeaders headers, @PathParam("id") String id) {
    return JobResponse.of(jobs.pause(callers.tenant(headers), id));
  }

  @POST
  @Path("{id}/resume")
  @Operation(summary = "Resume a paused fine-tuning job", description = "Queued again; a worker goes on from the checkpoint it paused at.")
  public JobResponse resume(@Context HttpHeaders headers, @PathParam("id") String id) {
    return JobResponse.of(jobs.resume(callers.tenant(headers), id));
  }

  @GET
  @Path("{id}/events")
  @Transactional
  @Operation(summary = "List a job's events", description = "Oldest first, in cursor pages; `type` message or metrics (`data`: step, train_loss, valid_loss, full_valid_loss, tokens_per_second, …).")
  public ListPage<EventResponse> events(@Context HttpHeaders headers, @PathParam("id") String id,
      @QueryParam("after") String after, @QueryParam("limit") String limitParam) {
    String tenant = callers.tenant(headers);
    jobs.get(tenant, id);
    int limit = RequestValues.limit(limitParam, 100, 1000);
    return ListPage.firstOf(jobs.events(tenant, id, after, limit), limit, EventResponse::of, EventResponse::id);
  }

  /**
   * The job's events as they happen (server-sent events), from the first, until the job ends. The stream
   * holds no thread: {@link JobEventStreams} feeds every open stream from one poll.
   */
  @GET
  @Path("{id}/events")
  @Produces(MediaType.SERVER_SENT_EVENTS)
  @Operation(summary = "Follow a job's events live", description = "Server-sent events from the first until the job ends.")
  @RestStreamElementType(MediaType.APPLICATION_JSON)
  @io.smallrye.common.annotation.Blocking
  public Multi<EventResponse> stream(@Context HttpHeaders headers, @PathParam("id") String id) {
    String tenant = callers.tenant(headers);
    jobs.reload(tenant, id).orElseThrow(() -> io.peftplatform.service.problem.ApiException.notFound("no fine-tuning job " + id, "id"));
    return streams.follow(id);
  }

  @GET
  @Path("{id}/checkpoints")
  @Transactional
  @Operation(summary = "List a job's checkpoints", description = "Newest step first, in cursor pages (`after`, `limit` up to 100).")
  public ListPage<CheckpointResponse> checkpoints(@Context HttpHeaders headers, @PathParam("id") String id,
      @QueryParam("after") String after, @QueryParam("limit") String limitParam) {
    int limit = RequestValues.limit(limitParam, 10, 100);
    List<CheckpointResponse> all = jobs.checkpoints(callers.tenant(headers), id).stream().map(CheckpointResponse::of).toList();
    int from = 0;
    if (after != null && !after.isBlank()) {
      from = java.util.stream.IntStream.range(0, all.size()).filter(i -> all.get(i).id().equals(after)).findFirst()
          .orElseThrow(() -> io.peftplatform.service.problem.ApiException.badRequest("no checkpoint " + after + " of this job to page after", "after")) + 1;
    }
    return ListPage.of(all.subList(from, Math.min(all.size(), from + limit)), from + limit < all.size(), CheckpointResponse::id);
  }
}

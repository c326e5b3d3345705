package io.peftplatform.jobs.rest;

import com.fasterxml.jackson.databind.JsonNode;
import io.peftplatform.jobs.Job;
import io.peftplatform.jobs.JobEventEntry;
import io.peftplatform.jobs.rest.JobResponses.CheckpointResponse;
import io.peftplatform.jobs.rest.JobResponses.EventResponse;
import io.peftplatform.jobs.rest.JobResponses.JobResponse;
import io.peftplatform.jobs.rest.JobResponses.ListResponse;
import io.peftplatform.jobs.service.ArtifactProjections;
import io.peftplatform.jobs.service.JobEventStreams;
import io.peftplatform.jobs.service.JobRequest;
import io.peftplatform.jobs.service.JobService;
import io.smallrye.mutiny.Multi;
import io.peftplatform.service.problem.RequestValues;
import jakarta.inject.Inject;
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
import org.jboss.resteasy.reactive.RestStreamElementType;

/** /v1/fine-tuning/jobs: create, list, read, cancel, events (a page, or live), checkpoints. */
@Path("/v1/fine-tuning/jobs")
@Produces(MediaType.APPLICATION_JSON)
public class JobResource {
  @Inject JobService jobs;
  @Inject ArtifactProjections projections;
  @Inject Callers callers;
  @Inject JobEventStreams streams;

  @POST
  @Consumes(MediaType.APPLICATION_JSON)
  public JobResponse create(@Context HttpHeaders headers, JsonNode body) {
    String tenant = callers.tenant(headers);
    JobRequest request = JobRequest.parse(body);
    projections.awaitModelSettled(tenant, request.model(), "model");
    projections.awaitKnown(tenant, ArtifactProjections.Kind.DATASET, request.trainingFile(), "training_file");
    if (request.validationFile() != null) {
      projections.awaitKnown(tenant, ArtifactProjections.Kind.DATASET, request.validationFile(), "validation_file");
    }
    return JobResponse.of(jobs.create(tenant, request));
  }

  @GET
  @Transactional
  public ListResponse<JobResponse> list(@Context HttpHeaders headers, @QueryParam("after") String after,
      @QueryParam("limit") String limitParam, @QueryParam("status") String status) {
    int limit = RequestValues.limit(limitParam, 20, 100);
    List<Job> page = jobs.list(callers.tenant(headers), after, limit, status);
    boolean more = page.size() > limit;
    return new ListResponse<>("list", (more ? page.subList(0, limit) : page).stream().map(JobResponse::of).toList(), more);
  }

  @GET
  @Path("{id}")
  @Transactional
  public JobResponse get(@Context HttpHeaders headers, @PathParam("id") String id) {
    return JobResponse.of(jobs.get(callers.tenant(headers), id));
  }

  @POST
  @Path("{id}/cancel")
  public JobResponse cancel(@Context HttpHeaders headers, @PathParam("id") String id) {
    return JobResponse.of(jobs.cancel(callers.tenant(headers), id));
  }

  @GET
  @Path("{id}/events")
  @Transactional
  public ListResponse<EventResponse> events(@Context HttpHeaders headers, @PathParam("id") String id,
      @QueryParam("after") String after, @QueryParam("limit") String limitParam) {
    String tenant = callers.tenant(headers);
    jobs.get(tenant, id);
    int limit = RequestValues.limit(limitParam, 100, 1000);
    List<JobEventEntry> page = jobs.events(tenant, id, after, limit);
    boolean more = page.size() > limit;
    return new ListResponse<>("list", (more ? page.subList(0, limit) : page).stream().map(EventResponse::of).toList(), more);
  }

  /**
   * The job's events as they happen (server-sent events), from the first, until the job ends. The stream
   * holds no thread: {@link JobEventStreams} feeds every open stream from one poll.
   */
  @GET
  @Path("{id}/events")
  @Produces(MediaType.SERVER_SENT_EVENTS)
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
  public ListResponse<CheckpointResponse> checkpoints(@Context HttpHeaders headers, @PathParam("id") String id) {
    return new ListResponse<>("list", jobs.checkpoints(callers.tenant(headers), id).stream().map(CheckpointResponse::of).toList(), false);
  }
}

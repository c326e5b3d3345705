package io.peftplatform.artifacts.rest;

import com.fasterxml.jackson.databind.JsonNode;
import io.peftplatform.artifacts.rest.Responses.MergeResponse;
import io.peftplatform.artifacts.service.MergeService;
import io.peftplatform.service.page.ListPage;
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
import jakarta.ws.rs.core.Response;
import org.eclipse.microprofile.openapi.annotations.Operation;

/**
 * Merges of adapters: {@code {"model", "adapters": [{"id", "weight"}], "method", "density", "seed",
 * "output": {"type": "model" | "adapter", "rank"}, "name"}}; learned ones ({@code "method": "expert_merging"
 * | "ada_merging"}) with calibration datasets and {@code hyperparameters}; whole models by a mergekit
 * {@code config}. The output appears as a model or adapter with the merge's output id once the merge
 * succeeds.
 */
@Path("/v1/merges")
@Produces(MediaType.APPLICATION_JSON)
public class MergeResource {
  @Inject MergeService merges;
  @Inject Tenants tenants;

  @POST
  @Consumes(MediaType.APPLICATION_JSON)
  @Operation(summary = "Merge adapters (by fixed weights or learned coefficients), or whole models from a mergekit configuration", description = "`{model, adapters: [{id, weight}], method: linear|task_arithmetic|ties|dare_linear|dare_ties, density, seed, output: {type: model|adapter, rank}, name}`; or learned: `{model, method: expert_merging, adapters: [{id, calibration_file}], hyperparameters, seed, output, name}` or `{model, method: ada_merging, adapters: [{id}], calibration_file, hyperparameters, …}` (progress in `progress`, cancel at `/cancel`); or `{config, seed, name}` with `config` mergekit's YAML (a string, or the same as a JSON object) naming registered ids (`model-…`, `model-…+adapter-…`); runs on a merging worker.")
  public Response create(@Context HttpHeaders headers, JsonNode body) {
    return Response.status(Response.Status.CREATED).entity(MergeResponse.of(merges.create(tenants.of(headers), body))).build();
  }

  @GET
  @Transactional
  @Operation(summary = "List merges", description = "Newest first, in cursor pages.")
  public ListPage<MergeResponse> list(@Context HttpHeaders headers, @QueryParam("after") String after,
      @QueryParam("limit") String limit) {
    return Responses.page(merges.list(tenants.of(headers), after, RequestValues.limit(limit, 20, 100)), MergeResponse::of, MergeResponse::id);
  }

  @POST
  @Path("{id}/cancel")
  @Operation(summary = "Cancel a merge", description = "A queued merge is cancelled at once; a running learned merge stops after its current step (`cancel_requested`, then `cancelled`). 409 for a finished merge.")
  public MergeResponse cancel(@Context HttpHeaders headers, @PathParam("id") String id) {
    return MergeResponse.of(merges.cancel(tenants.of(headers), id));
  }

  @GET
  @Path("{id}")
  @Transactional
  @Operation(summary = "Read a merge", description = "`queued`, then `succeeded` with `output_id` or `failed` with `error`.")
  public MergeResponse get(@Context HttpHeaders headers, @PathParam("id") String id) {
    return MergeResponse.of(merges.get(tenants.of(headers), id));
  }
}

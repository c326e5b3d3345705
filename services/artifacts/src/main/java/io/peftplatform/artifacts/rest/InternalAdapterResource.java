package io.peftplatform.artifacts.rest;

import io.peftplatform.artifacts.Adapter;
import io.peftplatform.artifacts.service.AdapterService;
import io.peftplatform.artifacts.service.Json;
import io.peftplatform.events.ObjectRef;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import java.util.List;

/**
 * For the other services (never proxied by the gateway, which forwards /v1 only): an adapter's base
 * model and object references, so the jobs service can hand a worker any adapter to generate with —
 * trained ones and merged ones alike.
 */
@Path("/internal/adapters")
@Produces(MediaType.APPLICATION_JSON)
public class InternalAdapterResource {
  @Inject AdapterService adapters;
  @Inject Tenants tenants;

  public record AdapterFiles(String id, String modelId, List<ObjectRef> files) {}

  @GET
  @Path("{id}")
  @Transactional
  public AdapterFiles get(@Context HttpHeaders headers, @PathParam("id") String id) {
    Adapter a = adapters.get(tenants.of(headers), id);
    return new AdapterFiles(a.id, a.modelId, Json.refs(a.files));
  }
}

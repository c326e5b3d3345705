package io.peftplatform.jobs.rest;

import io.peftplatform.service.page.ListPage;
import org.eclipse.microprofile.openapi.annotations.Operation;
import io.peftplatform.jobs.ApiKey;
import io.peftplatform.jobs.auth.KeyRegistry;
import io.peftplatform.service.problem.RequestValues;
import jakarta.inject.Inject;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Size;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;

/** API keys: admins create keys for tenants (a new tenant comes with its first key), list and revoke them. */
@Path("/v1/api-keys")
@Produces(MediaType.APPLICATION_JSON)
public class KeyResource {
  @Inject KeyRegistry keys;
  @Inject Callers callers;

  public record CreateKey(@NotBlank(message = "is required") @Size(max = 63) String tenant, @Size(max = 256) String name,
      Boolean admin) {}

  public record KeyInfo(String object, String id, String tenant, String name, boolean admin, long createdAt) {
    static KeyInfo of(ApiKey k) {
      return new KeyInfo("api_key", k.id, k.tenant, k.name, k.admin, k.createdAt.getEpochSecond());
    }
  }


  public record Revoked(String id, String object, boolean deleted) {}

  @POST
  @Consumes(MediaType.APPLICATION_JSON)
  @Operation(summary = "Create an API key (admin)", description = "`{tenant, name}`: the secret is in the answer, once.")
  public Response create(@Context HttpHeaders headers, @Valid CreateKey request) {
    callers.requireAdmin(headers);
    if (request == null) {
      throw io.peftplatform.service.problem.ApiException.badRequest("a JSON body {\"tenant\": …} is required", "tenant");
    }
    RequestValues.name(request.name(), "name");
    return Response.status(201).entity(keys.create(request.tenant(), request.name(), Boolean.TRUE.equals(request.admin()))).build();
  }

  /** Every key (the secrets are never shown again), optionally of one tenant. */
  @GET
  @Operation(summary = "List API keys (admin)", description = "Never their secrets; `tenant` filters.")
  public ListPage<KeyInfo> list(@Context HttpHeaders headers, @QueryParam("tenant") String tenant) {
    callers.requireAdmin(headers);
    return ListPage.of(keys.list(tenant).stream().map(KeyInfo::of).toList(), false, KeyInfo::id);
  }

  @DELETE
  @Path("{id}")
  @Operation(summary = "Revoke an API key (admin)", description = "The last admin key stays.")
  public Revoked revoke(@Context HttpHeaders headers, @PathParam("id") String id) {
    callers.requireAdmin(headers);
    return new Revoked(keys.revoke(id).id, "api_key", true);
  }
}

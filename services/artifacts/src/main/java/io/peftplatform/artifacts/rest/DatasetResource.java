package io.peftplatform.artifacts.rest;

import io.peftplatform.artifacts.Dataset;
import io.peftplatform.artifacts.rest.Responses.DatasetResponse;
import io.peftplatform.artifacts.rest.Responses.DeletedResponse;
import io.peftplatform.artifacts.rest.Responses.ListResponse;
import io.peftplatform.artifacts.service.DatasetService;
import io.peftplatform.service.problem.ApiException;
import io.peftplatform.service.problem.RequestValues;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import jakarta.validation.constraints.Size;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
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
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import org.jboss.resteasy.reactive.RestForm;
import org.jboss.resteasy.reactive.multipart.FileUpload;

/** JSONL datasets: upload (validated line by line as it streams), list, read with a preview, delete. */
@Path("/v1/datasets")
@Produces(MediaType.APPLICATION_JSON)
public class DatasetResource {
  @Inject DatasetService datasets;
  @Inject Tenants tenants;

  @POST
  @Consumes(MediaType.MULTIPART_FORM_DATA)
  public Response upload(@Context HttpHeaders headers, @RestForm @Size(max = 256) String name, @RestForm("file") FileUpload file) {
    String tenant = tenants.of(headers);
    RequestValues.name(name, "name");
    if (file == null) {
      throw ApiException.badRequest("no file: send the JSONL in the 'file' field", "file");
    }
    try (InputStream in = Files.newInputStream(file.uploadedFile())) {
      return created(datasets.upload(tenant, name == null ? RequestValues.fileName(file.fileName(), "file") : name, in));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The body is the JSONL itself (application/jsonl, application/x-ndjson or text/plain). */
  @POST
  @Consumes({"application/jsonl", "application/x-ndjson", MediaType.TEXT_PLAIN, MediaType.APPLICATION_OCTET_STREAM})
  public Response uploadBody(@Context HttpHeaders headers, @QueryParam("name") @Size(max = 256) String name, InputStream body) {
    RequestValues.name(name, "name");
    return created(datasets.upload(tenants.of(headers), name, body));
  }

  private static Response created(Dataset d) {
    return Response.status(Response.Status.CREATED).entity(DatasetResponse.of(d, true)).build();
  }

  @GET
  @Transactional
  public ListResponse<DatasetResponse> list(@Context HttpHeaders headers, @QueryParam("after") String after,
      @QueryParam("limit") String limit) {
    return ListResponse.of(datasets.list(tenants.of(headers), after, RequestValues.limit(limit, 20, 100)), d -> DatasetResponse.of(d, false), DatasetResponse::id);
  }

  @GET
  @Path("{id}")
  @Transactional
  public DatasetResponse get(@Context HttpHeaders headers, @PathParam("id") String id) {
    return DatasetResponse.of(datasets.get(tenants.of(headers), id), true);
  }

  @DELETE
  @Path("{id}")
  public DeletedResponse delete(@Context HttpHeaders headers, @PathParam("id") String id) {
    datasets.delete(tenants.of(headers), id);
    return new DeletedResponse(id, "file", true);
  }
}

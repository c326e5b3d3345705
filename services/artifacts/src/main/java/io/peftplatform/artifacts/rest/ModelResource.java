package io.peftplatform.artifacts.rest;

import io.peftplatform.artifacts.Model;
import io.peftplatform.artifacts.rest.Responses.DeletedResponse;
import io.peftplatform.artifacts.rest.Responses.ListResponse;
import io.peftplatform.artifacts.rest.Responses.ModelResponse;
import io.peftplatform.artifacts.service.ModelService;
import io.peftplatform.service.problem.ApiException;
import io.peftplatform.service.problem.RequestValues;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotBlank;
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
import java.util.List;
import org.jboss.resteasy.reactive.RestForm;
import org.jboss.resteasy.reactive.multipart.FileUpload;

/** Base models: upload a Hugging Face directory, or import one; list, read, delete. */
@Path("/v1/models")
@Produces(MediaType.APPLICATION_JSON)
public class ModelResource {
  @Inject ModelService models;
  @Inject Tenants tenants;

  /** Where to import a model from. */
  public record ImportRequest(
      @NotBlank(message = "is required: hf://org/name[@revision], an https:// archive URL or s3://bucket/prefix")
      @Size(max = 1024) String source,
      @Size(max = 256) String name) {}

  @POST
  @Consumes(MediaType.MULTIPART_FORM_DATA)
  public Response upload(@Context HttpHeaders headers, @RestForm @Size(max = 256) String name,
      @RestForm("file") List<FileUpload> files, @RestForm("archive") FileUpload archive) {
    String tenant = tenants.of(headers);
    RequestValues.name(name, "name");
    Model m;
    if (archive != null) {
      if (files != null && !files.isEmpty()) {
        throw ApiException.badRequest("send either files or one archive, not both", "archive");
      }
      m = models.registerArchive(tenant, name, RequestValues.fileName(archive.fileName(), "archive"), archive.uploadedFile());
    } else {
      List<ModelService.UploadedFile> uploaded = files == null ? List.of()
          : files.stream().map(f -> new ModelService.UploadedFile(f.fileName(), f.uploadedFile())).toList();
      m = models.registerUpload(tenant, name, uploaded);
    }
    return created(m);
  }

  @POST
  @Consumes(MediaType.APPLICATION_JSON)
  public Response importModel(@Context HttpHeaders headers, @Valid ImportRequest request) {
    if (request == null) {
      throw ApiException.badRequest("a JSON body {\"source\": …} is required", "source");
    }
    RequestValues.name(request.name(), "name");
    return created(models.registerImport(tenants.of(headers), request.name(), request.source()));
  }

  private static Response created(Model m) {
    return Response.status(Response.Status.CREATED).entity(ModelResponse.of(m)).build();
  }

  @GET
  @Transactional
  public ListResponse<ModelResponse> list(@Context HttpHeaders headers, @QueryParam("after") String after,
      @QueryParam("limit") String limit) {
    return ListResponse.of(models.list(tenants.of(headers), after, RequestValues.limit(limit, 20, 100)), ModelResponse::of, ModelResponse::id);
  }

  @GET
  @Path("{id}")
  @Transactional
  public ModelResponse get(@Context HttpHeaders headers, @PathParam("id") String id) {
    return ModelResponse.of(models.get(tenants.of(headers), id));
  }

  @DELETE
  @Path("{id}")
  public DeletedResponse delete(@Context HttpHeaders headers, @PathParam("id") String id) {
    models.delete(tenants.of(headers), id);
    return new DeletedResponse(id, "model", true);
  }
}

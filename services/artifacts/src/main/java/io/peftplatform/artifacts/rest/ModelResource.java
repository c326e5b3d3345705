package io.peftplatform.artifacts.rest;

import io.peftplatform.artifacts.Model;
import io.peftplatform.artifacts.rest.Responses.DeletedResponse;
import io.peftplatform.service.page.ListPage;
import io.peftplatform.artifacts.rest.Responses.ModelResponse;
import io.peftplatform.artifacts.service.AdapterService;
import io.peftplatform.artifacts.service.ModelCatalog;
import io.peftplatform.artifacts.service.ModelService;
import org.eclipse.microprofile.openapi.annotations.Operation;
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
  @Inject ModelCatalog catalog;
  @Inject AdapterService adapters;

  /** Where to import a model from. */
  public record ImportRequest(
      @NotBlank(message = "is required: hf://org/name[@revision], an https:// archive URL or s3://bucket/prefix")
      @Size(max = 1024) String source,
      @Size(max = 256) String name) {}

  @POST
  @Consumes(MediaType.MULTIPART_FORM_DATA)
  @Operation(summary = "Register a model by upload", description = "Multipart `file` parts (a Hugging Face directory: config.json, *.safetensors, tokenizer files) or one tar/zip `archive`; `name`. Validated in the background: `validating`, then `ready` or `failed`.")
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
  @Operation(summary = "Register a model by import", description = "`{\"source\": \"hf://org/name[@revision]\" | \"https://…archive\" | \"s3://bucket/prefix\", \"name\"}`: fetched in the background (private and loopback addresses refused).")
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
  @Operation(summary = "List models", description = "OpenAI's list of models: base and merged models and fine-tuned models (adapters, with their `parent`), newest first, in cursor pages (`after`, `limit` up to 100, `has_more`).")
  public ListPage<Responses.ModelObject> list(@Context HttpHeaders headers, @QueryParam("after") String after,
      @QueryParam("limit") String limit) {
    return Responses.page(catalog.list(tenants.of(headers), after, RequestValues.limit(limit, 20, 100)), Responses::of,
        Responses.ModelObject::id);
  }

  @GET
  @Path("{id}")
  @Transactional
  @Operation(summary = "Read a model", description = "A base or merged model, or a fine-tuned model by its adapter id or `ft:…:<adapter id>` name.")
  public Responses.ModelObject get(@Context HttpHeaders headers, @PathParam("id") String id) {
    return Responses.of(catalog.find(tenants.of(headers), id).orElseThrow(() -> ApiException.notFound("no model " + id, "id")));
  }

  @DELETE
  @Path("{id}")
  @Operation(summary = "Delete a model", description = "A fine-tuned model's adapter too, as OpenAI deletes fine-tuned models.")
  public DeletedResponse delete(@Context HttpHeaders headers, @PathParam("id") String id) {
    String tenant = tenants.of(headers);
    if (RequestValues.isFineTuned(id)) {
      adapters.delete(tenant, RequestValues.modelId(id));
    } else {
      models.delete(tenant, id);
    }
    return new DeletedResponse(id, "model", true);
  }
}

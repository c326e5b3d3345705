package io.peftplatform.artifacts.rest;

import io.peftplatform.artifacts.Dataset;
import io.peftplatform.artifacts.rest.Responses.DatasetResponse;
import io.peftplatform.artifacts.rest.Responses.DeletedResponse;
import io.peftplatform.service.page.ListPage;
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
import java.util.List;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import io.peftplatform.storage.ObjectStore;
import jakarta.ws.rs.core.StreamingOutput;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.resteasy.reactive.RestForm;
import org.jboss.resteasy.reactive.multipart.FileUpload;

/**
 * /v1/files, OpenAI's files API over the dataset registry: a file is a JSONL training or validation set
 * (purpose {@code fine-tune}), validated line by line as it streams in; list, read (with a preview and
 * the row and token counts as extensions), download, delete.
 */
@Path("/v1/files")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "files")
public class FileResource {
  static final String PURPOSE = "fine-tune";

  @Inject DatasetService datasets;
  @Inject Tenants tenants;
  @Inject ObjectStore store;

  @POST
  @Consumes(MediaType.MULTIPART_FORM_DATA)
  @Operation(summary = "Upload a JSONL file", description = "Multipart `file` and `purpose` (`fine-tune`, the only one, so it may be left out); `name` overrides the file name. Every line is checked; bad ones are reported by number.")
  public Response upload(@Context HttpHeaders headers, @RestForm @Size(max = 256) String name, @RestForm String purpose,
      @RestForm("file") FileUpload file) {
    String tenant = tenants.of(headers);
    RequestValues.name(name, "name");
    purpose(purpose);
    if (file == null) {
      throw ApiException.badRequest("no file: send the JSONL in the 'file' field", "file");
    }
    try (InputStream in = Files.newInputStream(file.uploadedFile())) {
      return created(datasets.upload(tenant, name == null ? RequestValues.fileName(file.fileName(), "file") : name, in));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The body is the JSONL itself (application/jsonl, application/x-ndjson or text/plain): streamed, for large files. */
  @POST
  @Consumes({"application/jsonl", "application/x-ndjson", MediaType.TEXT_PLAIN, MediaType.APPLICATION_OCTET_STREAM})
  @Operation(summary = "Upload a JSONL file as the request body", description = "`?name=` names it; `?purpose=` is `fine-tune` when given.")
  public Response uploadBody(@Context HttpHeaders headers, @QueryParam("name") @Size(max = 256) String name,
      @QueryParam("purpose") String purpose, InputStream body) {
    RequestValues.name(name, "name");
    purpose(purpose);
    return created(datasets.upload(tenants.of(headers), name, body));
  }

  /** OpenAI's purposes other than fine-tuning name things this platform does not keep. */
  private static void purpose(String purpose) {
    if (purpose != null && !purpose.equals(PURPOSE)) {
      throw ApiException.badRequest("must be \"" + PURPOSE + "\" (training and validation files)", "purpose");
    }
  }

  private static Response created(Dataset d) {
    return Response.status(Response.Status.CREATED).entity(DatasetResponse.of(d, true)).build();
  }

  @GET
  @Transactional
  @Operation(summary = "List files", description = "Newest first; cursor pages (`after`, `limit` up to 100, `has_more`). `purpose` filters (only `fine-tune` exists).")
  public ListPage<DatasetResponse> list(@Context HttpHeaders headers, @QueryParam("after") String after,
      @QueryParam("limit") String limit, @QueryParam("purpose") String purpose, @QueryParam("order") String order) {
    if (purpose != null && !purpose.equals(PURPOSE)) {
      return ListPage.of(List.of(), false, DatasetResponse::id); // fine-tune is the only purpose kept
    }
    if (order != null && !order.equals("desc")) {
      throw ApiException.badRequest("only \"desc\" (newest first) is supported", "order");
    }
    return Responses.page(datasets.list(tenants.of(headers), after, RequestValues.limit(limit, 20, 100)), d -> DatasetResponse.of(d, false), DatasetResponse::id);
  }

  @GET
  @Path("{id}")
  @Transactional
  @Operation(summary = "Read a file", description = "With its first records (`preview`), rows, token estimate and format.")
  public DatasetResponse get(@Context HttpHeaders headers, @PathParam("id") String id) {
    return DatasetResponse.of(datasets.get(tenants.of(headers), id), true);
  }

  @GET
  @Path("{id}/content")
  @Produces(MediaType.WILDCARD) // OpenAI's SDKs ask for application/binary
  @Operation(summary = "Download a file's content", description = "The JSONL exactly as uploaded.")
  public Response content(@Context HttpHeaders headers, @PathParam("id") String id) {
    Dataset d = datasets.get(tenants.of(headers), id);
    String key = d.objectKey;
    StreamingOutput body = out -> {
      try (InputStream in = store.open(key)) {
        in.transferTo(out);
      }
    };
    return Response.ok(body, "application/jsonl").header("Content-Length", d.bytes)
        .header("Content-Disposition", "attachment; filename=\"" + d.id + ".jsonl\"").build();
  }

  @DELETE
  @Path("{id}")
  @Operation(summary = "Delete a file")
  public DeletedResponse delete(@Context HttpHeaders headers, @PathParam("id") String id) {
    datasets.delete(tenants.of(headers), id);
    return new DeletedResponse(id, "file", true);
  }
}

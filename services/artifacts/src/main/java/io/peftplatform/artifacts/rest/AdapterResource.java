package io.peftplatform.artifacts.rest;

import org.eclipse.microprofile.openapi.annotations.Operation;
import io.peftplatform.artifacts.Adapter;
import io.peftplatform.artifacts.rest.Responses.AdapterResponse;
import io.peftplatform.artifacts.rest.Responses.DeletedResponse;
import io.peftplatform.artifacts.rest.Responses.FileUrl;
import io.peftplatform.service.page.ListPage;
import io.peftplatform.artifacts.service.AdapterService;
import io.peftplatform.artifacts.service.Json;
import io.peftplatform.events.ObjectRef;
import io.peftplatform.storage.ObjectLayout;
import io.peftplatform.storage.ObjectStore;
import io.peftplatform.service.problem.RequestValues;
import io.peftplatform.service.problem.ApiException;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;

/** Trained adapters: list, read with lineage, download as a PEFT directory, delete. */
@Path("/v1/adapters")
@Produces(MediaType.APPLICATION_JSON)
public class AdapterResource {
  @Inject AdapterService adapters;
  @Inject ObjectStore store;
  @Inject Tenants tenants;

  @GET
  @Transactional
  @Operation(summary = "List adapters", description = "Newest first, in cursor pages; each with its base model, method, parameters and metrics.")
  public ListPage<AdapterResponse> list(@Context HttpHeaders headers, @QueryParam("after") String after,
      @QueryParam("limit") String limit) {
    return Responses.page(adapters.list(tenants.of(headers), after, RequestValues.limit(limit, 20, 100)), a -> AdapterResponse.of(a, false), AdapterResponse::id);
  }

  @GET
  @Path("{id}")
  @Transactional
  @Operation(summary = "Read an adapter", description = "With its lineage: base model, datasets and their checksums, job, hyperparameters, seed, metrics.")
  public AdapterResponse get(@Context HttpHeaders headers, @PathParam("id") String id) {
    return AdapterResponse.of(adapters.get(tenants.of(headers), id), true);
  }

  /** The adapter as a PEFT directory in a .tar.gz (adapter_config.json, adapter_model.safetensors, provenance). */
  @GET
  @Path("{id}/content")
  @Produces("application/gzip")
  @Operation(summary = "Download an adapter", description = "The adapter directory (adapter_config.json, adapter_model.safetensors, provenance) as a .tar.gz; `?format=peft` as PEFT, vLLM and LoRAX load it (NOLA as the plain LoRA it equals).")
  public Response download(@Context HttpHeaders headers, @PathParam("id") String id, @QueryParam("format") String format) {
    Adapter a = adapters.get(tenants.of(headers), id);
    if (format != null && !format.equals("native") && !format.equals("peft")) {
      throw ApiException.badRequest("must be peft (what PEFT, vLLM and LoRAX load) or native (as trained)", "format");
    }
    List<ObjectRef> files = "peft".equals(format) && a.method.equals("nola") ? peftExport(Json.refs(a.files)) : Json.refs(a.files);
    StreamingOutput body = out -> {
      try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new GzipCompressorOutputStream(out))) {
        for (ObjectRef f : files) {
          TarArchiveEntry entry = new TarArchiveEntry(a.id + "/" + ObjectLayout.fileName(f.key()));
          entry.setSize(f.bytes());
          tar.putArchiveEntry(entry);
          try (InputStream in = store.open(f.key())) {
            in.transferTo(tar);
          }
          tar.closeArchiveEntry();
        }
      }
    };
    return Response.ok(body).header("Content-Disposition", "attachment; filename=\"" + a.id + ".tar.gz\"").build();
  }

  /**
   * A NOLA adapter as PEFT loads it: the plain LoRA it equals, which its worker stored beside it. Every
   * other method is stored in PEFT's own format already.
   */
  private List<ObjectRef> peftExport(List<ObjectRef> files) {
    List<ObjectRef> out = new java.util.ArrayList<>();
    for (ObjectRef f : files) {
      String name = ObjectLayout.fileName(f.key());
      if (name.equals("adapter_config.json") || name.equals("adapter_model.safetensors")) {
        String key = ObjectLayout.peftExportKey(f.key());
        long size = store.size(key).orElseThrow(() -> ApiException.conflict(
            "this NOLA adapter has no PEFT export (it was trained before exports were kept); download it as is and run peft export"));
        out.add(new ObjectRef(key, null, size));
      } else {
        out.add(f);
      }
    }
    return out;
  }

  /** Presigned download URLs of the adapter's files, valid for an hour. */
  @GET
  @Path("{id}/files")
  @Transactional
  @Operation(summary = "Presigned URLs of an adapter's files", description = "Valid for an hour.")
  public List<FileUrl> files(@Context HttpHeaders headers, @PathParam("id") String id) {
    Adapter a = adapters.get(tenants.of(headers), id);
    return Json.refs(a.files).stream()
        .map(f -> new FileUrl(ObjectLayout.fileName(f.key()), f.bytes(), f.sha256(), store.presignedGet(f.key(), Duration.ofHours(1))))
        .toList();
  }

  @DELETE
  @Path("{id}")
  @Operation(summary = "Delete an adapter")
  public DeletedResponse delete(@Context HttpHeaders headers, @PathParam("id") String id) {
    adapters.delete(tenants.of(headers), id);
    return new DeletedResponse(id, "adapter", true);
  }
}

package io.peftplatform.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftplatform.client.PeftApiException;
import io.peftplatform.client.PeftClient;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** One tenant's models, datasets, jobs and adapters do not exist for another. */
class TenantIsolationTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static PeftClient owner;
  static PeftClient other;
  static String modelId;
  static String datasetId;
  static String jobId;
  static String adapterId;

  @BeforeAll
  static void ownerTrainsAnAdapter() {
    owner = RunningStack.tenant("e2e-owner");
    other = RunningStack.tenant("e2e-other");
    modelId = owner.uploadModel(RunningStack.tinyModel(), "private-model").path("id").asText();
    assertThat(RunningStack.ready(owner, modelId).path("status").asText()).isEqualTo("ready");
    datasetId = owner.uploadDataset(DemoContent.dataset(), "private.jsonl").path("id").asText();
    ObjectNode request = JSON.createObjectNode().put("model", modelId).put("training_file", datasetId);
    request.putObject("hyperparameters").put("max_steps", 2);
    jobId = owner.createJob(request).path("id").asText();
    JsonNode job = owner.awaitJob(jobId, RunningStack.JOB_TIMEOUT);
    assertThat(job.path("status").asText()).isEqualTo("succeeded");
    adapterId = job.path("fine_tuned_model").asText();
  }

  @AfterAll
  static void close() {
    owner.close();
    other.close();
  }

  private static void notFound(Executable call) {
    PeftApiException e = catchThrowableOfType(PeftApiException.class, call::execute);
    assertThat(e).as("expected 404").isNotNull();
    assertThat(e.status()).isEqualTo(404);
    assertThat(e.problem().path("status").asInt()).isEqualTo(404);
  }

  @Test
  void anotherTenantGets404ForEveryResource() {
    notFound(() -> other.getModel(modelId));
    notFound(() -> other.getDataset(datasetId));
    notFound(() -> other.getJob(jobId));
    notFound(() -> other.jobEvents(jobId, null, 10));
    notFound(() -> other.jobCheckpoints(jobId));
    notFound(() -> other.cancelJob(jobId));
    notFound(() -> other.getAdapter(adapterId));
    notFound(() -> other.adapterFiles(adapterId));
    notFound(() -> other.downloadAdapter(adapterId, RunningStack.scratch("stolen")));
    notFound(() -> other.deleteModel(modelId));
    notFound(() -> other.deleteDataset(datasetId));
    notFound(() -> other.deleteAdapter(adapterId));
    // and it is all still there for its owner
    assertThat(owner.getModel(modelId).path("status").asText()).isEqualTo("ready");
    assertThat(owner.getAdapter(adapterId).path("job_id").asText()).isEqualTo(jobId);
  }

  @Test
  void anotherTenantsListsAndJobsCannotReachIt() {
    for (JsonNode page : List.of(other.listModels(null, 100), other.listDatasets(null, 100), other.listJobs(null, null, 100),
        other.listAdapters(null, 100))) {
      assertThat(page.path("data").toString()).doesNotContain(modelId, datasetId, jobId, adapterId);
    }
    // Naming another tenant's model in a request reads exactly as naming one that does not exist.
    ObjectNode request = JSON.createObjectNode().put("model", modelId).put("training_file", datasetId);
    PeftApiException e = catchThrowableOfType(PeftApiException.class, () -> other.createJob(request));
    assertThat(e.status()).isEqualTo(400);
    assertThat(e.field()).isEqualTo("model");
    assertThat(e.getMessage()).isEqualTo("HTTP 400: no model " + modelId + " (field: model)");
    ObjectNode ownModel = request.deepCopy().put("model", other.uploadModel(RunningStack.tinyModel(), "mine").path("id").asText());
    PeftApiException f = catchThrowableOfType(PeftApiException.class, () -> other.createJob(ownModel));
    assertThat(f.getMessage()).isEqualTo("HTTP 400: no file " + datasetId + " (field: training_file)");
    ObjectNode complete = JSON.createObjectNode().put("model", adapterId).put("prompt", "hi");
    PeftApiException g = catchThrowableOfType(PeftApiException.class, () -> other.completion(complete));
    assertThat(g.status()).isEqualTo(404);
    assertThat(g.field()).isEqualTo("model");
    PeftApiException h = catchThrowableOfType(PeftApiException.class, () -> other.completion(complete.deepCopy().put("model", modelId)));
    assertThat(h.status()).isEqualTo(404);
  }
}

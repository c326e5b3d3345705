package io.peftplatform.worker;

import io.peftplatform.events.EventCodec;
import io.peftplatform.events.JobSubmitted;
import io.peftplatform.events.ObjectRef;
import io.peftplatform.llama.checkpoint.CheckpointWriter;
import io.peftplatform.llama.checkpoint.Presets;
import io.peftplatform.safetensors.DType;
import io.peftplatform.storage.ObjectLayout;
import io.peftplatform.storage.ObjectStore;
import io.peftplatform.training.spec.AdapterMethod;
import io.peftplatform.training.spec.AdapterSpec;
import io.peftplatform.training.spec.DataOptions;
import io.peftplatform.training.spec.Objective;
import io.peftplatform.training.spec.RunSpec;
import io.peftplatform.training.spec.TrainingConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

/** A tiny random-weight model and a small dataset in the bucket, and jobs that train on them. */
final class Fixtures {
  static final String TENANT = "t-worker-test";

  private static List<ObjectRef> model;
  private static ObjectRef dataset;

  private Fixtures() {}

  static synchronized List<ObjectRef> model(ObjectStore store) {
    if (model == null) {
      try {
        Path dir = Files.createTempDirectory("tiny-model");
        CheckpointWriter.writeRandom(dir, Presets.get("tiny"), 7, DType.F32, Long.MAX_VALUE);
        List<ObjectRef> refs = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
          for (Path f : files.sorted().toList()) {
            refs.add(store.put(ObjectLayout.modelPrefix(TENANT, "model-tiny") + f.getFileName(), f));
          }
        }
        model = List.copyOf(refs);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return model;
  }

  static synchronized ObjectRef dataset(ObjectStore store) {
    if (dataset == null) {
      dataset = upload(store, "ds-arith", arithmetic(24));
    }
    return dataset;
  }

  static ObjectRef upload(ObjectStore store, String datasetId, String jsonl) {
    byte[] bytes = jsonl.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    return store.put(ObjectLayout.datasetKey(TENANT, datasetId), new java.io.ByteArrayInputStream(bytes), bytes.length);
  }

  static String arithmetic(int n) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      int a = i % 7;
      int b = (i * 3) % 5;
      sb.append("{\"prompt\": \"").append(a).append(" plus ").append(b).append(" is\", \"completion\": \" ")
          .append(a + b).append("\"}\n");
    }
    return sb.toString();
  }

  static String newJobId() {
    return "ftjob-" + HexFormat.of().formatHex(UUID.randomUUID().toString().getBytes(), 0, 12);
  }

  /** The default checkpoint interval: ten in a run. */
  static final int AUTO = TrainingConfig.AUTO;

  static RunSpec spec(String method, int maxSteps, int checkpointEvery) {
    return new RunSpec(
        new AdapterSpec(AdapterMethod.parse(method), 4, 8, 0.0, List.of("q_proj", "v_proj"), false, 64, 64, 4, false, 42),
        new TrainingConfig(1, maxSteps, 5e-3, 0, TrainingConfig.Schedule.CONSTANT, 4, 1, 0.0, 1.0, 42, checkpointEvery, 0, 0,
            0.9, 0.999, 1e-8, TrainingConfig.Precision.FP32),
        new DataOptions(32, false, false), Objective.supervised());
  }

  static JobSubmitted job(ObjectStore store, String jobId, RunSpec spec) {
    return job(store, jobId, dataset(store), spec);
  }

  static JobSubmitted job(ObjectStore store, String jobId, ObjectRef trainingFile, RunSpec spec) {
    return new JobSubmitted(EventCodec.newId(), EventCodec.now(), jobId, TENANT, "model-tiny", model(store), trainingFile, null, spec);
  }
}

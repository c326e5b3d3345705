package io.peftplatform.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.peftplatform.merge.config.LearnedMergeSpec;
import io.peftplatform.training.spec.AdapterMethod;
import io.peftplatform.training.spec.AdapterSpec;
import io.peftplatform.training.spec.DataOptions;
import io.peftplatform.training.spec.Objective;
import io.peftplatform.training.spec.RunSpec;
import io.peftplatform.training.spec.TrainingConfig;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EventCodecTest {
  static final Instant T = Instant.parse("2026-11-27T12:00:00Z");

  @Test
  void everyEventRoundTripsWithItsTypeName() {
    RunSpec spec = new RunSpec(AdapterSpec.defaults(AdapterMethod.DORA).withSeed(42), TrainingConfig.defaults().withSeed(42),
        new DataOptions(512, false, false), Objective.dpo(0.2));
    ObjectRef file = new ObjectRef("tenants/t/datasets/d/data.jsonl", "ab", 10);
    List<PlatformEvent> events = List.of(
        new JobSubmitted("e1", T, "job-1", "t", "model-1", List.of(file), file, null, spec),
        new JobCancelRequested("e2", T, "job-1", "t"),
        new JobStarted("e3", T, "job-1", "t", "worker-a", 100, 64, 0, 1),
        new TrainingProgressed("e4", T, "job-1", "t", 5, 100, 0.2, 2.5, null, 1e-4, 1000, 30, Map.of("reward_margin", 0.5)),
        new JobHeartbeat("e4b", T, "job-1", "t", "worker-a", "training", 5),
        new CheckpointSaved("e5", T, "job-1", "t", 10, "p/", List.of(file), 2.1),
        new JobSucceeded("e6", T, "job-1", "t", "model-1", "lora", List.of(file), 1234, Map.of("train_loss", 1.0), "completed"),
        new JobFailed("e7", T, "job-1", "t", "internal_error", "boom"),
        new JobCancelled("e8", T, "job-1", "t", 7),
        new JobPauseRequested("e8a", T, "job-1", "t"),
        new JobResumeRequested("e8b", T, "job-1", "t"),
        new JobPaused("e8c", T, "job-1", "t", 5),
        new ModelChanged("e9", T, "model-1", "t", "tiny", "ready", "LlamaForCausalLM", List.of(file), null),
        new DatasetChanged("e10", T, "data-1", "t", "d", "ready", "text", 3, file, null),
        new ArtifactDeleted("e11", T, "data-1", "t", "dataset"),
        new MergeRequested("e12", T, "merge-1", "t", "model-1", List.of(file), List.of(new MergeRequested.Input("adapter-1", List.of(file), 1)),
            "expert_merging", 0, 3, 0, "model-2", null, List.of(), new MergeRequested.Learned(
                LearnedMergeSpec.of(LearnedMergeSpec.Method.EXPERT_MERGING, 50, null, null, null, 4, true, null, null, List.of(2), null, null, 3L),
                List.of(new MergeRequested.Registered("file-1", List.of(file))))),
        new MergeProgressed("e13", T, "merge-1", "t", 5, 50, 0.75, Map.of("logits", 0.7, "pull", 0.05), 3),
        new MergeCancelRequested("e14", T, "merge-1", "t"),
        new MergeCancelled("e15", T, "merge-1", "t", 5));
    for (PlatformEvent e : events) {
      String json = EventCodec.encode(e);
      assertThat(json).contains("\"type\":\"" + EventCodec.typeOf(e) + "\"").contains("\"time\":\"2026-11-27T12:00:00Z\"");
      assertThat(EventCodec.decode(json)).isEqualTo(e);
    }
  }

  @Test
  void theAggregateOfAnUndecodableEventIsReadWhenItCanBe() {
    assertThat(EventCodec.aggregateIdOf("{\"type\": \"JobSomething\", \"aggregateId\": \"ftjob-1\", \"tenant\": \"t\"}"))
        .hasValue(new EventCodec.Aggregate("ftjob-1", "t"));
    assertThat(EventCodec.aggregateIdOf("{not json")).isEmpty();
    assertThat(EventCodec.aggregateIdOf("{\"aggregateId\": 3}")).isEmpty();
  }

  /**
   * The largest model announcement the platform sends — as many files as the artifacts service accepts
   * (peft.limits.archive-entries, 1000), each with the longest name and tenant — stays well under Kafka's
   * default 1 MB record limit (and the outbox parks anything that does not).
   */
  @Test
  void theLargestModelAnnouncementFitsARecord() {
    List<ObjectRef> files = new java.util.ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      String name = String.format("%04d", i) + "x".repeat(196);
      files.add(new ObjectRef("tenants/" + "t".repeat(63) + "/models/model-" + "a".repeat(24) + "/" + name, "f".repeat(64), Long.MAX_VALUE));
    }
    String json = EventCodec.encode(new ModelChanged("e", T, "model-" + "a".repeat(24), "t".repeat(63), "n".repeat(256), "ready",
        "LlamaForCausalLM", files, null));
    assertThat(json.getBytes(java.nio.charset.StandardCharsets.UTF_8).length).isLessThan(512 * 1024);
  }

  @Test
  void poisonMessagesAreRejected() {
    assertThatThrownBy(() -> EventCodec.decode("not json")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> EventCodec.decode("{\"type\":\"Nope\"}")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> EventCodec.decode("{\"type\":\"JobCancelled\"}")).hasMessageContaining("without eventId");
  }
}

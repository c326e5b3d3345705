package io.peftplatform.merging.learned;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftplatform.merge.config.LearnedMergeSpec;
import io.peftplatform.text.dataset.TokenizedExample;
import io.peftplatform.training.CancellationToken;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * A learned merge stopped at any step and resumed from its state — as a merging worker does after a
 * crash or a restart — ends with exactly the coefficients of a run that never stopped, across Expert
 * Merging++'s re-chunking too.
 */
class LearnedMergeRunTest {
  static LearnedMerge merge(int steps) throws Exception {
    JsonNode f = new ObjectMapper().readTree(GoldenLearnedMergeTest.golden("expert-merging.json").toFile());
    List<List<TokenizedExample>> sets = new ArrayList<>();
    for (JsonNode set : f.get("texts")) {
      List<TokenizedExample> texts = new ArrayList<>();
      for (JsonNode t : set) {
        int[] ids = IntStream.range(0, t.size()).map(i -> t.get(i).asInt()).toArray();
        texts.add(new TokenizedExample(ids, ids.clone()));
      }
      sets.add(texts);
    }
    LearnedMergeSpec spec = LearnedMergeSpec.of(LearnedMergeSpec.Method.EXPERT_MERGING, steps, 0.2, 1, null, 2, true, null, null, null,
        null, null, 5L);
    List<LearnedMerge.ExpertInput> experts = List.of(
        new LearnedMerge.ExpertInput("lora", GoldenLearnedMergeTest.golden("lora"), false, null, null),
        new LearnedMerge.ExpertInput("dora", GoldenLearnedMergeTest.golden("dora"), false, null, null));
    return LearnedMerge.prepareTokenized(spec, GoldenLearnedMergeTest.golden("base"), experts, sets, 0, DataType.DOUBLE);
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 3, 4, 6})
  void aRunStoppedAndResumedEndsAsOneThatNeverStopped(int stopAfter) throws Exception {
    int steps = 8; // Expert Merging++ re-chunks before step 5
    LearnedMerge straight = merge(steps);
    LearnedMerge.State end = straight.run(null, null, null);
    assertThat(end.step()).isEqualTo(steps);

    LearnedMerge first = merge(steps);
    CancellationToken stop = new CancellationToken();
    LearnedMerge.State saved = first.run(s -> {
      if (s.step() + 1 == stopAfter) {
        stop.cancel();
      }
    }, stop, null);
    assertThat(saved.step()).isEqualTo(stopAfter);

    LearnedMerge resumed = merge(steps);
    assertThat(resumed.canResume(saved)).isTrue();
    LearnedMerge.State again = resumed.run(null, null, saved);
    assertThat(again.step()).isEqualTo(steps);
    assertThat(again.chunks()).isEqualTo(end.chunks());
    assertThat(again.raw()).isEqualTo(end.raw());
    assertThat(resumed.coefficients("model.layers.1.mlp.down_proj")).isEqualTo(straight.coefficients("model.layers.1.mlp.down_proj"));
  }

  @Test
  void aStateOfAnotherMergeIsNotResumed() throws Exception {
    LearnedMerge m = merge(4);
    LearnedMerge.State s = m.state();
    assertThat(m.canResume(s)).isTrue();
    assertThat(m.canResume(new LearnedMerge.State(2, s.chunks(), new double[3], new double[3], new double[3], 2))).isFalse();
    assertThat(m.canResume(new LearnedMerge.State(9, s.chunks(), s.raw(), s.firstMoment(), s.secondMoment(), 9))).isFalse();
  }
}

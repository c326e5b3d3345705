package io.peftplatform.merge.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.peftplatform.merge.config.LearnedMergeSpec.Method;
import java.util.List;
import org.junit.jupiter.api.Test;

class LearnedMergeSpecTest {
  @Test
  void defaultsAreDecidedPerMethod() {
    LearnedMergeSpec em = LearnedMergeSpec.defaults(Method.EXPERT_MERGING);
    assertThat(em.steps()).isEqualTo(100);
    assertThat(em.learningRate()).isEqualTo(0.05);
    assertThat(em.initialCoefficient()).isEqualTo(0.5);
    assertThat(em.alignedLayers(30)).containsExactly(15);
    LearnedMergeSpec ada = LearnedMergeSpec.defaults(Method.ADA_MERGING);
    assertThat(ada.initialCoefficient()).isEqualTo(0.3);
    assertThat(ada.alignedLayers(30)).isEmpty();
    assertThat(Method.byName("Expert-Merging")).isEqualTo(Method.EXPERT_MERGING);
    assertThat(Method.isLearned("ties")).isFalse();
    LearnedMergeSpec chosen = LearnedMergeSpec.of(Method.EXPERT_MERGING, 7, null, null, null, 4, true, null, 2.0, List.of(3, 1, 3), null,
        null, 9L);
    assertThat(chosen.alignedLayers(4)).containsExactly(1, 3);
    assertThat(chosen.learningRate()).isEqualTo(0.05);
    assertThat(chosen.seed()).isEqualTo(9);
  }

  @Test
  void everyBadSettingIsRefusedByItsField() {
    record Bad(String field, Runnable make) {}
    List<Bad> bad = List.of(
        new Bad("steps", () -> of(Method.EXPERT_MERGING, 0, null, null, null, null, null, null)),
        new Bad("steps", () -> of(Method.EXPERT_MERGING, 10_001, null, null, null, null, null, null)),
        new Bad("learning_rate", () -> of(Method.EXPERT_MERGING, null, Double.NaN, null, null, null, null, null)),
        new Bad("batch_size", () -> of(Method.ADA_MERGING, null, null, 65, null, null, null, null)),
        new Bad("chunks", () -> of(Method.EXPERT_MERGING, null, null, null, 0, null, null, null)),
        new Bad("importance_chunking", () -> of(Method.ADA_MERGING, null, null, null, 4, true, null, null)),
        new Bad("initial_coefficient", () -> of(Method.EXPERT_MERGING, null, null, null, null, null, 0.0, null)),
        new Bad("initial_coefficient", () -> of(Method.ADA_MERGING, null, null, null, null, null, 1.5, null)),
        new Bad("temperature", () -> of(Method.EXPERT_MERGING, null, null, null, null, null, null, -1.0)),
        new Bad("hidden_layers", () -> LearnedMergeSpec.of(Method.EXPERT_MERGING, null, null, null, null, null, null, null, null,
            List.of(-1), null, null, null)));
    for (Bad b : bad) {
      assertThatThrownBy(b.make()::run).isInstanceOf(MergeConfigException.class).hasMessageStartingWith(b.field() + ": ");
    }
    assertThat(LearnedMergeSpec.defaults(Method.EXPERT_MERGING).alignedLayers(2)).containsExactly(1);
    LearnedMergeSpec deep = LearnedMergeSpec.of(Method.EXPERT_MERGING, null, null, null, null, null, null, null, null, List.of(5), null,
        null, null);
    assertThatThrownBy(() -> deep.alignedLayers(4)).hasMessage("hidden_layers: the model has layers 0 to 3, got 5");
    assertThatThrownBy(() -> Method.byName("adamerging")).hasMessageStartingWith("method: unknown learned merge method 'adamerging'");
  }

  private static LearnedMergeSpec of(Method m, Integer steps, Double lr, Integer batch, Integer chunks, Boolean importance, Double init,
      Double temperature) {
    return LearnedMergeSpec.of(m, steps, lr, batch, null, chunks, importance, init, temperature, null, null, null, null);
  }
}

package io.peftplatform.training.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The defaults and the meaning of 0 and auto, decided here for the CLI, the API and the worker alike. */
class RunSpecTest {
  @Test
  void intervalsMeanTheSameEverywhere() {
    // 100 examples, batch 8, accumulation 2: 13 micro-batches, 7 steps an epoch, 3 epochs.
    TrainingConfig auto = TrainingConfig.defaults().withBatches(8, 2);
    assertThat(auto.stepsPerEpoch(100)).isEqualTo(7);
    assertThat(auto.totalSteps(100)).isEqualTo(21);
    assertThat(auto.evalInterval(100)).as("auto: once per epoch").isEqualTo(7);
    assertThat(auto.checkpointInterval(100)).as("auto: ten in a run").isEqualTo(2);
    TrainingConfig off = auto.withMonitoring(0, 0, 0);
    assertThat(off.evalInterval(100)).as("0: only at the end").isZero();
    assertThat(off.checkpointInterval(100)).as("0: none").isZero();
    TrainingConfig given = auto.withMonitoring(5, 3, 0);
    assertThat(given.evalInterval(100)).isEqualTo(3);
    assertThat(given.checkpointInterval(100)).isEqualTo(5);
    assertThat(auto.withSteps(1, 4).checkpointInterval(100)).as("at least one step").isEqualTo(1);
    assertThatThrownBy(() -> auto.withMonitoring(-2, 0, 0)).hasMessageContaining("checkpoint interval must be -1 (auto), 0 (none)");
  }

  @Test
  void defaultsAreDecidedOnce() {
    RunSpec spec = RunSpec.defaults(AdapterMethod.LORA);
    assertThat(spec.adapter().rank()).isEqualTo(AdapterSpec.DEFAULT_RANK);
    assertThat(spec.adapter().alpha()).isEqualTo(2.0 * AdapterSpec.DEFAULT_RANK);
    assertThat(spec.training().learningRate()).isEqualTo(TrainingConfig.DEFAULT_LEARNING_RATE);
    assertThat(spec.training().evalEvery()).isEqualTo(TrainingConfig.AUTO);
    assertThat(spec.training().checkpointEvery()).isEqualTo(TrainingConfig.AUTO);
    assertThat(spec.data()).isEqualTo(DataOptions.defaults());
    assertThat(spec.objective()).isEqualTo(Objective.supervised());
    assertThat(new RunSpec(spec.adapter(), spec.training(), null, null)).as("absent parts are the defaults").isEqualTo(spec);
  }

  @Test
  void preferenceRunsRefuseSupervisedOnlyOptions() {
    RunSpec d = RunSpec.defaults(AdapterMethod.DORA);
    assertThatThrownBy(() -> new RunSpec(d.adapter(), d.training(), new DataOptions(512, false, true), Objective.dpo(0.1)))
        .hasMessageContaining("packing applies to supervised training");
    assertThatThrownBy(() -> new RunSpec(d.adapter(), d.training(), new DataOptions(512, true, false), Objective.dpo(0.1)))
        .hasMessageContaining("preference tuning scores the answers only");
    assertThatThrownBy(() -> Objective.dpo(0)).hasMessageContaining("beta must be positive");
    assertThat(Objective.Kind.parse("DPO")).isEqualTo(Objective.Kind.DPO);
    assertThat(Objective.Kind.parse("sft")).isEqualTo(Objective.Kind.SUPERVISED);
    assertThatThrownBy(() -> Objective.Kind.parse("ppo")).hasMessageContaining("supervised, dpo, simpo or orpo");
  }

  @Test
  void eachPreferenceObjectiveHasItsDefaultsAndOnlyItsSettings() {
    assertThat(Objective.of(Objective.Kind.DPO, null, null)).isEqualTo(Objective.dpo(0.1));
    assertThat(Objective.of(Objective.Kind.SIMPO, null, null)).isEqualTo(Objective.simpo(2.0, 0.5));
    assertThat(Objective.of(Objective.Kind.ORPO, null, null)).isEqualTo(Objective.orpo(0.1));
    assertThat(Objective.of(Objective.Kind.SIMPO, 2.5, 0.0).gamma()).isZero();
    assertThat(Objective.simpo(2, 0.5).pairwise()).isTrue();
    assertThat(Objective.simpo(2, 0.5).needsReference()).as("SimPO has no reference model").isFalse();
    assertThat(Objective.dpo(0.1).needsReference()).isTrue();
    assertThatThrownBy(() -> new Objective(Objective.Kind.DPO, 0.1, 0.5)).hasMessageContaining("gamma is SimPO's");
    assertThatThrownBy(() -> Objective.simpo(2, -1)).hasMessageContaining("gamma must be zero or positive");
    assertThatThrownBy(() -> Objective.orpo(Double.NaN)).hasMessageContaining("beta must be positive");
    RunSpec d = RunSpec.defaults(AdapterMethod.LORA);
    assertThatThrownBy(() -> new RunSpec(d.adapter(), d.training(), new DataOptions(512, false, true), Objective.orpo(0.1)))
        .hasMessageContaining("packing applies to supervised training");
  }
}

package io.peftplatform.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsWriterTest {
  @TempDir Path dir;

  @Test
  void tensorsAddedLaterAreComputedOneAtATimeInNameOrderWhenWritten() {
    List<String> computed = new ArrayList<>();
    SafetensorsWriter writer = new SafetensorsWriter()
        .addLater("b", DType.BF16, new long[] {2}, () -> {
          computed.add("b");
          return new float[] {1.5f, -2f};
        })
        .addLater("a", DType.F32, new long[] {1, 3}, () -> {
          computed.add("a");
          return new float[] {1, 2, 3};
        });
    assertThat(computed).isEmpty();
    assertThat(writer.totalBytes()).isEqualTo(2 * 2 + 3 * 4);
    writer.write(dir.resolve("t.safetensors"));
    assertThat(computed).containsExactly("a", "b");
    try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("t.safetensors"))) {
      assertThat(f.readFloats("a")).containsExactly(1, 2, 3);
      assertThat(f.readFloats("b")).containsExactly(1.5f, -2f);
      assertThat(f.info("b").dtype()).isEqualTo(DType.BF16);
    }
  }

  @Test
  void aLateTensorOfTheWrongSizeFailsAndLeavesNoFile() {
    SafetensorsWriter writer = new SafetensorsWriter().addLater("a", DType.F32, new long[] {4}, () -> new float[] {1, 2});
    assertThatThrownBy(() -> writer.write(dir.resolve("t.safetensors"))).hasMessageContaining("a: expected 4 values, got 2");
    assertThat(dir.resolve("t.safetensors")).doesNotExist();
    assertThat(dir.resolve("t.safetensors.tmp")).doesNotExist();
  }
}

package io.peftplatform.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFileTest {
  @TempDir Path dir;

  /** Builds a file byte by byte, independently of {@link SafetensorsWriter}. */
  private Path rawFile(String header, byte[] data) throws IOException {
    byte[] json = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer buf = ByteBuffer.allocate(8 + json.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
    buf.putLong(json.length).put(json).put(data);
    Path file = dir.resolve("raw.safetensors");
    Files.write(file, buf.array());
    return file;
  }

  private static byte[] littleEndian(float... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      b.putFloat(v);
    }
    return b.array();
  }

  @Test
  void readsAHandBuiltFileOfEveryFloatType() throws IOException {
    ByteBuffer data = ByteBuffer.allocate(8 + 4 + 4 + 16).order(ByteOrder.LITTLE_ENDIAN);
    data.putFloat(1.5f).putFloat(-2f); // a: F32 [2]
    data.putShort((short) 0x3C00).putShort((short) 0xC000); // b: F16 [1, 2] = 1, -2
    data.putShort((short) 0x3F80).putShort((short) 0x4049); // c: BF16 [2] = 1, 3.140625
    data.putDouble(0.25).putDouble(-8); // d: F64 [2]
    Path file =
        rawFile(
            """
            {"__metadata__":{"format":"pt"},
             "a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},
             "b":{"dtype":"F16","shape":[1,2],"data_offsets":[8,12]},
             "c":{"dtype":"BF16","shape":[2],"data_offsets":[12,16]},
             "d":{"dtype":"F64","shape":[2],"data_offsets":[16,32]}}""",
            data.array());
    try (SafetensorsFile f = SafetensorsFile.open(file)) {
      assertThat(f.names()).containsExactly("a", "b", "c", "d");
      assertThat(f.metadata()).containsEntry("format", "pt");
      assertThat(f.info("b").shape()).containsExactly(1, 2);
      assertThat(f.readFloats("a")).containsExactly(1.5f, -2f);
      assertThat(f.readFloats("b")).containsExactly(1f, -2f);
      assertThat(f.readFloats("c")).containsExactly(1f, 3.140625f);
      assertThat(f.readFloats("d")).containsExactly(0.25f, -8f);
      DoubleBuffer doubles = DoubleBuffer.allocate(2);
      f.readDoubles("c", doubles);
      assertThat(doubles.array()).containsExactly(1.0, 3.140625);
    }
  }

  @Test
  void roundTripsThroughTheWriterInEveryStorageType() {
    float[] values = {0f, 1f, -1.5f, 3.1415927f, 1e-3f, -65504f};
    new SafetensorsWriter()
        .metadata("format", "pt")
        .add("f32", DType.F32, new long[] {2, 3}, values)
        .add("f16", DType.F16, new long[] {6}, values)
        .add("bf16", DType.BF16, new long[] {3, 2}, values)
        .add("f64", DType.F64, new long[] {6}, new double[] {0, 1, -1.5, Math.PI, 1e-3, -65504})
        .write(dir.resolve("w.safetensors"));
    try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("w.safetensors"))) {
      assertThat(f.metadata()).containsEntry("format", "pt");
      assertThat(f.readFloats("f32")).containsExactly(values);
      assertThat(f.info("bf16").shape()).containsExactly(3, 2);
      float[] f16 = f.readFloats("f16");
      float[] bf16 = f.readFloats("bf16");
      for (int i = 0; i < values.length; i++) {
        assertThat(f16[i]).isCloseTo(values[i], org.assertj.core.data.Percentage.withPercentage(0.05));
        assertThat(bf16[i]).isCloseTo(values[i], org.assertj.core.data.Percentage.withPercentage(0.4));
      }
      DoubleBuffer d = DoubleBuffer.allocate(6);
      f.readDoubles("f64", d);
      assertThat(d.get(3)).isEqualTo(Math.PI);
    }
  }

  @Test
  void headerIsPaddedSoTheDataSectionIsAligned() throws IOException {
    new SafetensorsWriter().add("x", DType.F32, new long[] {1}, new float[] {1}).write(dir.resolve("a.st"));
    byte[] bytes = Files.readAllBytes(dir.resolve("a.st"));
    long headerLength = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertThat(headerLength % 8).isZero();
    assertThat(bytes.length).isEqualTo(8 + headerLength + 4);
  }

  @Test
  void rejectsATruncatedFileNamingTheTensor() throws IOException {
    new SafetensorsWriter()
        .add("weight", DType.F32, new long[] {4, 4}, new float[16])
        .write(dir.resolve("t.safetensors"));
    Path file = dir.resolve("t.safetensors");
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.setLength(raf.length() - 10);
    }
    assertThatThrownBy(() -> SafetensorsFile.open(file))
        .isInstanceOf(SafetensorsException.class)
        .hasMessageContaining("t.safetensors")
        .hasMessageContaining("'weight'")
        .hasMessageContaining("truncated");
  }

  @Test
  void rejectsAHeaderLongerThanTheFile() throws IOException {
    Path file = dir.resolve("h.safetensors");
    ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(1_000_000).putLong(0);
    Files.write(file, b.array());
    assertThatThrownBy(() -> SafetensorsFile.open(file))
        .isInstanceOf(SafetensorsException.class)
        .hasMessageContaining("header length 1000000 does not fit");
  }

  @Test
  void rejectsAFileTooShortForAHeader() throws IOException {
    Path file = dir.resolve("s.safetensors");
    Files.write(file, new byte[] {1, 2, 3});
    assertThatThrownBy(() -> SafetensorsFile.open(file))
        .isInstanceOf(SafetensorsException.class)
        .hasMessageContaining("too short");
  }

  @Test
  void rejectsMalformedHeaders() throws IOException {
    assertThatThrownBy(() -> SafetensorsFile.open(rawFile("{not json", new byte[0])))
        .hasMessageContaining("not valid JSON");
    assertThatThrownBy(() -> SafetensorsFile.open(rawFile("[1,2]", new byte[0])))
        .hasMessageContaining("not a JSON object");
    assertThatThrownBy(
            () ->
                SafetensorsFile.open(
                    rawFile(
                        "{\"a\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                        littleEndian(1))))
        .hasMessageContaining("unknown dtype 'Q4'");
    assertThatThrownBy(
            () ->
                SafetensorsFile.open(
                    rawFile(
                        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}",
                        littleEndian(1))))
        .hasMessageContaining("needs 8 bytes but its offsets span 4");
    assertThatThrownBy(
            () ->
                SafetensorsFile.open(
                    rawFile(
                        "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}",
                        littleEndian(1))))
        .hasMessageContaining("invalid shape");
    assertThatThrownBy(
            () ->
                SafetensorsFile.open(
                    rawFile(
                        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                            + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                        littleEndian(1, 2))))
        .hasMessageContaining("overlap");
  }

  @Test
  void refusesToReadIntegersAsFloats() throws IOException {
    Path file =
        rawFile("{\"ids\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]);
    try (SafetensorsFile f = SafetensorsFile.open(file)) {
      assertThatThrownBy(() -> f.readFloats("ids")).hasMessageContaining("'ids' is I32");
      assertThatThrownBy(() -> f.readFloats("missing")).hasMessageContaining("no tensor 'missing'");
    }
  }

  @Test
  void missingFileIsAClearError() {
    assertThatThrownBy(() -> SafetensorsFile.open(dir.resolve("nope.safetensors")))
        .isInstanceOf(SafetensorsException.class)
        .hasMessageContaining("no such file");
  }
}

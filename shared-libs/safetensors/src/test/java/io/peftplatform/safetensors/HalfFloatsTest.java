package io.peftplatform.safetensors;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class HalfFloatsTest {
  @Test
  void decodesKnownHalfPrecisionBitPatterns() {
    assertThat(HalfFloats.f16ToFloat((short) 0x3C00)).isEqualTo(1f);
    assertThat(HalfFloats.f16ToFloat((short) 0xC000)).isEqualTo(-2f);
    assertThat(HalfFloats.f16ToFloat((short) 0x7BFF)).isEqualTo(65504f);
    assertThat(HalfFloats.f16ToFloat((short) 0x0001)).isEqualTo(0x1p-24f);
    assertThat(HalfFloats.f16ToFloat((short) 0x0400)).isEqualTo(0x1p-14f);
    assertThat(HalfFloats.f16ToFloat((short) 0x7C00)).isEqualTo(Float.POSITIVE_INFINITY);
    assertThat(HalfFloats.f16ToFloat((short) 0x7E00)).isNaN();
    assertThat(Float.floatToRawIntBits(HalfFloats.f16ToFloat((short) 0x8000))).isEqualTo(0x80000000);
  }

  @Test
  void halfPrecisionRoundTripsEveryFiniteValue() {
    for (int bits = 0; bits < 0x10000; bits++) {
      short h = (short) bits;
      float f = HalfFloats.f16ToFloat(h);
      if (!Float.isNaN(f)) {
        assertThat(HalfFloats.floatToF16(f)).as("0x%04x", bits).isEqualTo(h);
      }
    }
  }

  @Test
  void halfPrecisionRoundsToNearestEven() {
    // 1 + 2^-11 lies halfway between 1 and the next half (1 + 2^-10): ties go to the even mantissa.
    assertThat(HalfFloats.floatToF16(1f + 0x1p-11f)).isEqualTo((short) 0x3C00);
    assertThat(HalfFloats.floatToF16(1f + 3 * 0x1p-11f)).isEqualTo((short) 0x3C02);
    assertThat(HalfFloats.floatToF16(70000f)).isEqualTo((short) 0x7C00);
  }

  @Test
  void bfloat16KeepsTheTopHalfAndRoundsToNearestEven() {
    assertThat(HalfFloats.floatToBf16(1f)).isEqualTo((short) 0x3F80);
    assertThat(HalfFloats.bf16ToFloat((short) 0x4049)).isEqualTo(3.140625f);
    assertThat(HalfFloats.floatToBf16(Float.intBitsToFloat(0x3F808000))).isEqualTo((short) 0x3F80);
    assertThat(HalfFloats.floatToBf16(Float.intBitsToFloat(0x3F818000))).isEqualTo((short) 0x3F82);
    assertThat(HalfFloats.floatToBf16(Float.intBitsToFloat(0x3F808001))).isEqualTo((short) 0x3F81);
    assertThat(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(Float.NaN))).isNaN();
  }
}

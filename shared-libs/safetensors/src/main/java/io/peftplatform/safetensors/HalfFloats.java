package io.peftplatform.safetensors;

/** Conversions between fp32 and the two 16-bit float formats (IEEE half, bfloat16). */
public final class HalfFloats {
  private HalfFloats() {}

  /** bfloat16 is the top half of an fp32: widening is exact. */
  public static float bf16ToFloat(short bits) {
    return Float.intBitsToFloat((bits & 0xffff) << 16);
  }

  /** Rounds to nearest even, as PyTorch does; NaN stays NaN. */
  public static short floatToBf16(float value) {
    int bits = Float.floatToRawIntBits(value);
    if (Float.isNaN(value)) {
      return (short) ((bits >>> 16) | 0x0040);
    }
    int rounding = 0x7fff + ((bits >>> 16) & 1);
    return (short) ((bits + rounding) >>> 16);
  }

  /** IEEE 754 binary16 to fp32, exact (subnormals, infinities and NaN included). */
  public static float f16ToFloat(short half) {
    int h = half & 0xffff;
    int sign = (h & 0x8000) << 16;
    int exponent = (h >>> 10) & 0x1f;
    int mantissa = h & 0x3ff;
    if (exponent == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
    }
    if (exponent == 0) {
      if (mantissa == 0) {
        return Float.intBitsToFloat(sign);
      }
      // Subnormal: value = mantissa * 2^-24.
      float magnitude = mantissa * 0x1p-24f;
      return sign == 0 ? magnitude : -magnitude;
    }
    return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
  }

  /** fp32 to IEEE binary16, rounding to nearest even; overflow goes to infinity. */
  public static short floatToF16(float value) {
    int bits = Float.floatToRawIntBits(value);
    int sign = (bits >>> 16) & 0x8000;
    int exponent = (bits >>> 23) & 0xff;
    int mantissa = bits & 0x7fffff;
    if (exponent == 0xff) {
      return (short) (sign | 0x7c00 | (mantissa != 0 ? 0x200 : 0));
    }
    int e = exponent - 127 + 15;
    if (e >= 0x1f) {
      return (short) (sign | 0x7c00);
    }
    if (e <= 0) {
      if (e < -10) {
        return (short) sign;
      }
      // Subnormal half: shift the mantissa (with its implicit bit) into place, rounding to even.
      int m = mantissa | 0x800000;
      int shift = 14 - e;
      int halfMantissa = m >>> shift;
      int remainder = m & ((1 << shift) - 1);
      int halfway = 1 << (shift - 1);
      if (remainder > halfway || (remainder == halfway && (halfMantissa & 1) == 1)) {
        halfMantissa++;
      }
      return (short) (sign | halfMantissa);
    }
    int halfBits = (e << 10) | (mantissa >>> 13);
    int remainder = mantissa & 0x1fff;
    if (remainder > 0x1000 || (remainder == 0x1000 && (halfBits & 1) == 1)) {
      halfBits++; // may carry into the exponent, which is the correct rounding
    }
    return (short) (sign | halfBits);
  }
}

package io.peftplatform.safetensors;

import java.nio.ByteBuffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;

/** Converts little-endian stored elements to fp32 or fp64. */
final class ElementConversion {
  private ElementConversion() {}

  static void toFloats(DType dtype, ByteBuffer bytes, FloatBuffer dst) {
    switch (dtype) {
      case F32 -> dst.put(bytes.asFloatBuffer());
      case F64 -> {
        DoubleBuffer src = bytes.asDoubleBuffer();
        while (src.hasRemaining()) {
          dst.put((float) src.get());
        }
      }
      case BF16 -> {
        ShortBuffer src = bytes.asShortBuffer();
        while (src.hasRemaining()) {
          dst.put(HalfFloats.bf16ToFloat(src.get()));
        }
      }
      case F16 -> {
        ShortBuffer src = bytes.asShortBuffer();
        while (src.hasRemaining()) {
          dst.put(HalfFloats.f16ToFloat(src.get()));
        }
      }
      default -> throw new IllegalArgumentException(dtype + " is not floating point");
    }
  }

  static void toDoubles(DType dtype, ByteBuffer bytes, DoubleBuffer dst) {
    switch (dtype) {
      case F64 -> dst.put(bytes.asDoubleBuffer());
      case F32 -> {
        FloatBuffer src = bytes.asFloatBuffer();
        while (src.hasRemaining()) {
          dst.put(src.get());
        }
      }
      case BF16 -> {
        ShortBuffer src = bytes.asShortBuffer();
        while (src.hasRemaining()) {
          dst.put(HalfFloats.bf16ToFloat(src.get()));
        }
      }
      case F16 -> {
        ShortBuffer src = bytes.asShortBuffer();
        while (src.hasRemaining()) {
          dst.put(HalfFloats.f16ToFloat(src.get()));
        }
      }
      default -> throw new IllegalArgumentException(dtype + " is not floating point");
    }
  }
}

package io.peftplatform.safetensors;

import java.util.Arrays;
import java.util.Optional;

/** Element types of the safetensors format, by the names its header uses. */
public enum DType {
  F64(8),
  F32(4),
  F16(2),
  BF16(2),
  I64(8),
  I32(4),
  I16(2),
  I8(1),
  U8(1),
  BOOL(1),
  F8_E4M3(1),
  F8_E5M2(1);

  private final int bytes;

  DType(int bytes) {
    this.bytes = bytes;
  }

  /** Bytes per element. */
  public int bytes() {
    return bytes;
  }

  /** Whether values of this type convert to floating point on load (F64, F32, F16, BF16). */
  public boolean isFloatingPoint() {
    return this == F64 || this == F32 || this == F16 || this == BF16;
  }

  public static Optional<DType> byName(String name) {
    return Arrays.stream(values()).filter(d -> d.name().equals(name)).findFirst();
  }
}

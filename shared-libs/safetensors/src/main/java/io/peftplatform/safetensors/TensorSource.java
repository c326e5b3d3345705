package io.peftplatform.safetensors;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;

/**
 * Named tensors read from one safetensors file or a sharded set. Floating-point tensors of any stored
 * type (F64, F32, F16, BF16) are converted to the precision the caller asks for.
 */
public interface TensorSource extends AutoCloseable {

  /** Tensor names, sorted. */
  SortedSet<String> names();

  Optional<TensorInfo> find(String name);

  /** The tensor's header entry; fails naming the tensor and the file when it is absent. */
  TensorInfo info(String name);

  /** The {@code __metadata__} map (for sharded sets: the first shard's). */
  Map<String, String> metadata();

  /** Copies the tensor into {@code dst} from its current position, converting to fp32. */
  void readFloats(String name, FloatBuffer dst);

  /** Copies the tensor into {@code dst} from its current position, converting to fp64. */
  void readDoubles(String name, DoubleBuffer dst);

  /** The tensor converted to fp32, row-major. */
  default float[] readFloats(String name) {
    long n = info(name).elementCount();
    if (n > Integer.MAX_VALUE - 8) {
      throw new SafetensorsException(name + " has " + n + " elements: too many for one Java array");
    }
    float[] out = new float[(int) n];
    readFloats(name, FloatBuffer.wrap(out));
    return out;
  }

  /** Describes where the tensors come from, for error messages. */
  String location();

  @Override
  void close();
}

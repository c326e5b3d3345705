package io.peftplatform.adapters;

import io.peftplatform.llama.nn.Rows;
import java.util.Arrays;
import java.util.function.Supplier;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A value a layer derives from its fp32 parameters (DoRA's g, NOLA's A and B), kept between inference calls
 * while the parameters hold the same values — compared one by one, since the optimizer, a checkpoint load or
 * a test changes them in place. Comparing costs a read of the parameters, far less than deriving again.
 */
final class KeptWhileUnchanged<T> {
  private float[][] from;
  private T value;

  /** The kept value, or {@code derive}'s (run outside any workspace) when a parameter changed since. */
  T get(Supplier<T> derive, INDArray... parameters) {
    float[][] now = new float[parameters.length][];
    for (int i = 0; i < parameters.length; i++) {
      now[i] = values(parameters[i]);
    }
    if (value == null || !Arrays.deepEquals(from, now)) {
      try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
        value = derive.get();
      }
      from = now;
    }
    return value;
  }

  /** An fp32 parameter's values, read straight from the store where it is a dense slice of it. */
  private static float[] values(INDArray p) {
    float[] v = new float[(int) p.length()];
    if (Rows.dense(p)) {
      Rows.of(p).readFloats(0, v, v.length);
    } else {
      p.dup('c').data().asNioFloat().get(v);
    }
    return v;
  }
}

package io.peftplatform.llama.nn;

import java.util.HashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Named activation buffers, allocated once and reused across calls (the State of STYLE.md). A request
 * for a shape returns a C-order view over the named buffer's first elements; the buffer grows when a
 * larger shape is asked for. Off-heap memory therefore stays at the high-water mark of the largest batch
 * instead of growing with every step until the garbage collector runs.
 *
 * <p>Two views of the same name alias each other: a name holds one live value at a time.
 */
public final class Arena {
  private final DataType dataType;
  private final Map<String, INDArray> buffers = new HashMap<>();

  public Arena(DataType dataType) {
    this.dataType = dataType;
  }

  public DataType dataType() {
    return dataType;
  }

  /** A view of {@code shape} over the buffer called {@code name}; its contents are whatever was there. */
  public INDArray get(String name, long... shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    INDArray flat = buffers.get(name);
    if (flat == null || flat.length() < n) {
      try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
        flat = Nd4j.createUninitialized(dataType, Math.max(n, 1));
      }
      buffers.put(name, flat);
    }
    return Nd4j.create(flat.data(), shape, Nd4j.getStrides(shape, 'c'), 0, 'c', dataType);
  }

  /** Like {@link #get} but zero-filled. */
  public INDArray zeros(String name, long... shape) {
    INDArray a = get(name, shape);
    a.assign(0);
    return a;
  }

  /** Bytes held by all buffers. */
  public long bytes() {
    return buffers.values().stream().mapToLong(b -> b.length() * dataType.width()).sum();
  }

  /** Releases every buffer now rather than at the next garbage collection. */
  public void release() {
    buffers.values().forEach(b -> b.data().destroy());
    buffers.clear();
  }
}

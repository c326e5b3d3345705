package io.peftplatform.llama;

import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.config.ModelException;
import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Keys and values of every layer for one sequence being generated, after RoPE. */
public final class KvCache {
  private final INDArray[] keys; // per layer (Hkv, capacity, hd)
  private final INDArray[] values; // per layer (Hkv, capacity, hd)
  private final int kvHeads;
  private final int headDim;
  private final int capacity;
  private int length;

  public KvCache(LlamaConfig c, int capacity, DataType dataType) {
    this.kvHeads = c.numKvHeads();
    this.headDim = c.headDim();
    this.capacity = capacity;
    keys = new INDArray[c.numLayers()];
    values = new INDArray[c.numLayers()];
    try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
      for (int i = 0; i < keys.length; i++) {
        keys[i] = Nd4j.create(dataType, kvHeads, capacity, headDim);
        values[i] = Nd4j.create(dataType, kvHeads, capacity, headDim);
      }
    }
  }

  /** Frees the off-heap memory now instead of at the next garbage collection. */
  public void release() {
    for (int i = 0; i < keys.length; i++) {
      keys[i].data().destroy();
      values[i].data().destroy();
    }
  }

  /** Positions already cached. */
  public int length() {
    return length;
  }

  public int capacity() {
    return capacity;
  }

  /** Marks {@code n} more positions as filled (after every layer has written them). */
  void advance(int n) {
    length += n;
  }

  /**
   * Stores the new positions' keys and values.
   *
   * @param k (Tq, Hkv·hd)
   * @param v (Tq, Hkv·hd)
   */
  void write(int layer, INDArray k, INDArray v, int offset) {
    int tq = (int) k.size(0);
    if (offset + tq > capacity) {
      throw new ModelException("sequence of " + (offset + tq) + " tokens exceeds the cache of " + capacity);
    }
    keys[layer].get(all(), interval(offset, offset + tq), all()).assign(k.reshape('c', tq, kvHeads, headDim).permute(1, 0, 2));
    values[layer].get(all(), interval(offset, offset + tq), all()).assign(v.reshape('c', tq, kvHeads, headDim).permute(1, 0, 2));
  }

  /** (Hkv, tk, hd) the first tk cached keys. */
  INDArray keys(int layer, int tk) {
    return keys[layer].get(all(), interval(0, tk), all());
  }

  /** (Hkv, tk, hd) the first tk cached values. */
  INDArray values(int layer, int tk) {
    return values[layer].get(all(), interval(0, tk), all());
  }
}

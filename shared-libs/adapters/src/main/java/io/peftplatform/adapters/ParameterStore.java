package io.peftplatform.adapters;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Every trainable tensor of an adapter in one flat buffer, and their gradients in another, so the
 * optimizer, gradient clipping and zeroing each touch one array however many modules there are. Each
 * tensor is a C-order view at its offset.
 */
public final class ParameterStore {
  private final Map<String, long[]> shapes;
  private final INDArray values; // (P)
  private final INDArray grads; // (P)
  private final Map<String, INDArray> valueViews = new LinkedHashMap<>();
  private final Map<String, INDArray> gradViews = new LinkedHashMap<>();

  public ParameterStore(Map<String, long[]> shapes, DataType dataType) {
    this.shapes = Collections.unmodifiableMap(new LinkedHashMap<>(shapes));
    long total = 0;
    for (long[] s : shapes.values()) {
      total += count(s);
    }
    try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
      values = Nd4j.zeros(dataType, Math.max(total, 1));
      grads = Nd4j.zeros(dataType, Math.max(total, 1));
    }
    long offset = 0;
    for (Map.Entry<String, long[]> e : shapes.entrySet()) {
      long[] s = e.getValue();
      valueViews.put(e.getKey(), view(values, s, offset));
      gradViews.put(e.getKey(), view(grads, s, offset));
      offset += count(s);
    }
  }

  private static long count(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  private static INDArray view(INDArray flat, long[] shape, long offset) {
    return Nd4j.create(flat.data(), shape, Nd4j.getStrides(shape, 'c'), offset, 'c', flat.dataType());
  }

  public Set<String> names() {
    return shapes.keySet();
  }

  public long[] shape(String name) {
    return shapes.get(name).clone();
  }

  public INDArray value(String name) {
    INDArray v = valueViews.get(name);
    if (v == null) {
      throw new IllegalArgumentException("no adapter tensor " + name);
    }
    return v;
  }

  public INDArray grad(String name) {
    return gradViews.get(name);
  }

  /** All values, flat (P). */
  public INDArray values() {
    return values;
  }

  /** All gradients, flat (P). */
  public INDArray grads() {
    return grads;
  }

  /** Number of trainable parameters. */
  public long size() {
    return shapes.values().stream().mapToLong(ParameterStore::count).sum();
  }

  public DataType dataType() {
    return values.dataType();
  }

  public void zeroGrads() {
    grads.assign(0);
  }
}

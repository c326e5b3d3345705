package io.peftplatform.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;

/**
 * Writes safetensors files: tensors given as fp32 or fp64 values, stored as F32, F16, BF16 or F64.
 * Tensors are laid out in name order; the header is padded with spaces to a multiple of 8 bytes so the
 * data section is aligned. Files are written to a temporary name and moved into place, so a crash never
 * leaves a half-written checkpoint under the final name.
 */
public final class SafetensorsWriter {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** values: the tensor's fp32 or fp64 values, fetched when the tensor is written (see {@link #addLater}) */
  private record Entry(String name, DType dtype, long[] shape, Supplier<Buffer> values) {
    long elementCount() {
      return Arrays.stream(shape).reduce(1, Math::multiplyExact);
    }

    long byteLength() {
      return elementCount() * dtype.bytes();
    }
  }

  private final Map<String, Entry> entries = new TreeMap<>();
  private final Map<String, String> metadata = new LinkedHashMap<>();

  public SafetensorsWriter metadata(String key, String value) {
    metadata.put(key, value);
    return this;
  }

  /** Adds a tensor from fp32 values (row-major) to be stored as {@code dtype}. */
  public SafetensorsWriter add(String name, DType dtype, long[] shape, float[] values) {
    return add(name, dtype, shape, FloatBuffer.wrap(values));
  }

  /** Adds a tensor from the remaining fp32 values of {@code values}; the buffer is read at write time. */
  public SafetensorsWriter add(String name, DType dtype, long[] shape, FloatBuffer values) {
    return put(new Entry(name, dtype, shape.clone(), fixed(values)), values.remaining());
  }

  /**
   * Adds a tensor whose fp32 values are computed only when it is written, one tensor at a time: a whole
   * checkpoint streams through with one tensor's values in memory.
   */
  public SafetensorsWriter addLater(String name, DType dtype, long[] shape, Supplier<float[]> values) {
    Entry e = new Entry(name, dtype, shape.clone(), () -> FloatBuffer.wrap(values.get()));
    return put(e, e.elementCount());
  }

  /** As {@link #addLater}, from fp64 values (rounded once, to {@code dtype}). */
  public SafetensorsWriter addLaterDoubles(String name, DType dtype, long[] shape, Supplier<double[]> values) {
    Entry e = new Entry(name, dtype, shape.clone(), () -> DoubleBuffer.wrap(values.get()));
    return put(e, e.elementCount());
  }

  private static Supplier<Buffer> fixed(Buffer values) {
    Buffer copy = values.duplicate();
    return copy::duplicate;
  }

  /** Adds a tensor from fp64 values (row-major) to be stored as {@code dtype}. */
  public SafetensorsWriter add(String name, DType dtype, long[] shape, double[] values) {
    return add(name, dtype, shape, DoubleBuffer.wrap(values));
  }

  public SafetensorsWriter add(String name, DType dtype, long[] shape, DoubleBuffer values) {
    return put(new Entry(name, dtype, shape.clone(), fixed(values)), values.remaining());
  }

  private SafetensorsWriter put(Entry e, long values) {
    if (!e.dtype.isFloatingPoint()) {
      throw new IllegalArgumentException("cannot store " + e.name + " as " + e.dtype);
    }
    if (values != e.elementCount()) {
      throw new IllegalArgumentException(
          e.name
              + ": shape "
              + Arrays.toString(e.shape)
              + " holds "
              + e.elementCount()
              + " values, got "
              + values);
    }
    if (entries.putIfAbsent(e.name, e) != null) {
      throw new IllegalArgumentException("tensor " + e.name + " added twice");
    }
    return this;
  }

  public long totalBytes() {
    return entries.values().stream().mapToLong(Entry::byteLength).sum();
  }

  /** Writes every tensor into one file. */
  public void write(Path file) {
    writeFile(file, new ArrayList<>(entries.values()), metadata);
  }

  /**
   * Writes shards of at most {@code maxShardBytes} each (a bigger tensor gets a shard of its own) as
   * {@code model-0000i-of-0000n.safetensors}, and {@code model.safetensors.index.json} beside them.
   */
  public void writeSharded(Path dir, long maxShardBytes) {
    List<List<Entry>> shards = new ArrayList<>();
    List<Entry> current = new ArrayList<>();
    long currentBytes = 0;
    for (Entry e : entries.values()) {
      if (!current.isEmpty() && currentBytes + e.byteLength() > maxShardBytes) {
        shards.add(current);
        current = new ArrayList<>();
        currentBytes = 0;
      }
      current.add(e);
      currentBytes += e.byteLength();
    }
    if (!current.isEmpty()) {
      shards.add(current);
    }
    ObjectNode index = JSON.createObjectNode();
    index.putObject("metadata").put("total_size", totalBytes());
    ObjectNode weightMap = index.putObject("weight_map");
    for (int i = 0; i < shards.size(); i++) {
      String fileName = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
      writeFile(dir.resolve(fileName), shards.get(i), metadata);
      for (Entry e : shards.get(i)) {
        weightMap.put(e.name, fileName);
      }
    }
    try {
      Files.writeString(
          dir.resolve(Checkpoints.SHARD_INDEX),
          JSON.writerWithDefaultPrettyPrinter().writeValueAsString(index));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void writeFile(Path file, List<Entry> tensors, Map<String, String> metadata) {
    ObjectNode header = JSON.createObjectNode();
    if (!metadata.isEmpty()) {
      ObjectNode meta = header.putObject("__metadata__");
      metadata.forEach(meta::put);
    }
    long offset = 0;
    for (Entry e : tensors) {
      ObjectNode node = header.putObject(e.name);
      node.put("dtype", e.dtype.name());
      ArrayNode shape = node.putArray("shape");
      Arrays.stream(e.shape).forEach(shape::add);
      ArrayNode offsets = node.putArray("data_offsets");
      offsets.add(offset);
      offset += e.byteLength();
      offsets.add(offset);
    }
    byte[] json;
    try {
      json = JSON.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    int padded = (json.length + 7) / 8 * 8;
    byte[] headerBytes = Arrays.copyOf(json, padded);
    Arrays.fill(headerBytes, json.length, padded, (byte) ' ');

    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      try (OutputStream out = Files.newOutputStream(tmp)) {
        ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        length.putLong(headerBytes.length);
        out.write(length.array());
        out.write(headerBytes);
        try (Prefetch values = new Prefetch(tensors)) {
          for (Entry e : tensors) {
            writeValues(out, e, values.take());
          }
        }
      }
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      deleteQuietly(tmp);
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      deleteQuietly(tmp);
      throw e;
    }
  }

  private static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException ignored) {
      // the original failure is the one to report
    }
  }

  private static void writeValues(OutputStream out, Entry e, Buffer src) throws IOException {
    final int chunkElements = 1 << 16;
    ByteBuffer chunk =
        ByteBuffer.allocate(chunkElements * e.dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
    if (src.remaining() != e.elementCount()) {
      throw new IllegalStateException(e.name + ": expected " + e.elementCount() + " values, got " + src.remaining());
    }
    FloatBuffer floats = src instanceof FloatBuffer f ? f : null;
    DoubleBuffer doubles = src instanceof DoubleBuffer d ? d : null;
    if (e.dtype == DType.F32 && doubles != null && doubles.hasArray()) {
      // the common case of merges: fp64 results stored as F32, converted a chunk at a time and copied in bulk
      double[] array = doubles.array();
      float[] converted = new float[chunkElements];
      for (int at = doubles.arrayOffset() + doubles.position(), end = at + doubles.remaining(); at < end; ) {
        int n = Math.min(chunkElements, end - at);
        for (int i = 0; i < n; i++) {
          converted[i] = (float) array[at + i];
        }
        chunk.clear();
        chunk.asFloatBuffer().put(converted, 0, n);
        out.write(chunk.array(), 0, n * Float.BYTES);
        at += n;
      }
      return;
    }
    while (src.hasRemaining()) {
      chunk.clear();
      int n = Math.min(chunkElements, src.remaining());
      switch (e.dtype) {
        case F32 -> {
          for (int i = 0; i < n; i++) {
            chunk.putFloat(floats != null ? floats.get() : (float) doubles.get());
          }
        }
        case F64 -> {
          for (int i = 0; i < n; i++) {
            chunk.putDouble(floats != null ? floats.get() : doubles.get());
          }
        }
        case BF16 -> {
          for (int i = 0; i < n; i++) {
            chunk.putShort(HalfFloats.floatToBf16(floats != null ? floats.get() : (float) doubles.get()));
          }
        }
        case F16 -> {
          for (int i = 0; i < n; i++) {
            chunk.putShort(HalfFloats.floatToF16(floats != null ? floats.get() : (float) doubles.get()));
          }
        }
        default -> throw new IllegalStateException(e.dtype.name());
      }
      out.write(chunk.array(), 0, chunk.position());
    }
  }

  /**
   * The entries' values in order, each computed on a background thread while the one before it is
   * written: reading and merging the next tensor overlaps writing this one (two tensors in memory).
   */
  private static final class Prefetch implements AutoCloseable {
    private final List<Entry> entries;
    private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "safetensors-prefetch");
      t.setDaemon(true);
      return t;
    });
    private Future<Buffer> next;
    private int index;

    Prefetch(List<Entry> entries) {
      this.entries = entries;
      if (!entries.isEmpty()) {
        next = executor.submit(() -> entries.get(0).values.get());
      }
    }

    Buffer take() throws IOException {
      Buffer current;
      try {
        current = next.get();
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while computing " + entries.get(index).name, ex);
      } catch (ExecutionException ex) {
        if (ex.getCause() instanceof RuntimeException r) {
          throw r;
        }
        if (ex.getCause() instanceof Error err) {
          throw err;
        }
        throw new IOException(ex.getCause());
      }
      index++;
      if (index < entries.size()) {
        Entry e = entries.get(index);
        next = executor.submit(() -> e.values.get());
      }
      return current;
    }

    @Override
    public void close() {
      executor.shutdownNow();
    }
  }
}

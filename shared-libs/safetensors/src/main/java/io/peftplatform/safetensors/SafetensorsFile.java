package io.peftplatform.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * One {@code .safetensors} file, memory-mapped. The header is validated when the file is opened: its
 * length against the file's, every entry's type, shape and offsets against the data section, and no two
 * tensors overlapping. A truncated or corrupt file fails here, with the file named, not later.
 *
 * <p>Layout: 8-byte little-endian header length N, N bytes of JSON, then the data section.
 */
public final class SafetensorsFile implements TensorSource {
  /** Hugging Face's reader refuses headers above 100 MB; so do we. */
  static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

  /** Longest single mapping; large tensors are read through several. */
  /** Bytes per read: a multiple of 8, so no element straddles two chunks. */
  private static final int CHUNK_BYTES = 4 << 20;
  private static final ThreadLocal<ByteBuffer> CHUNK = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(CHUNK_BYTES));

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path path;
  private final FileChannel channel;
  private final long dataStart;
  private final Map<String, TensorInfo> tensors; // sorted by name
  private final Map<String, String> metadata;

  private SafetensorsFile(
      Path path,
      FileChannel channel,
      long dataStart,
      Map<String, TensorInfo> tensors,
      Map<String, String> metadata) {
    this.path = path;
    this.channel = channel;
    this.dataStart = dataStart;
    this.tensors = tensors;
    this.metadata = metadata;
  }

  public static SafetensorsFile open(Path path) {
    FileChannel channel;
    try {
      channel = FileChannel.open(path, StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      throw new SafetensorsException(path + ": no such file");
    } catch (IOException e) {
      throw new SafetensorsException(path + ": cannot open: " + e.getMessage(), e);
    }
    try {
      return read(path, channel);
    } catch (RuntimeException e) {
      closeQuietly(channel);
      throw e;
    }
  }

  private static SafetensorsFile read(Path path, FileChannel channel) {
    try {
      long fileSize = channel.size();
      if (fileSize < 8) {
        throw corrupt(path, "file is " + fileSize + " bytes, too short for a safetensors header");
      }
      ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(channel, lengthBytes, 0);
      long headerLength = lengthBytes.getLong(0);
      if (headerLength <= 0 || headerLength > fileSize - 8) {
        throw corrupt(
            path,
            "header length "
                + Long.toUnsignedString(headerLength)
                + " does not fit in a file of "
                + fileSize
                + " bytes (truncated or not safetensors)");
      }
      if (headerLength > MAX_HEADER_BYTES) {
        throw corrupt(path, "header of " + headerLength + " bytes exceeds the 100 MB limit");
      }
      ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
      readFully(channel, headerBytes, 8);
      long dataStart = 8 + headerLength;
      long dataLength = fileSize - dataStart;
      return parseHeader(path, channel, headerBytes.array(), dataStart, dataLength);
    } catch (IOException e) {
      throw new SafetensorsException(path + ": cannot read: " + e.getMessage(), e);
    }
  }

  private static SafetensorsFile parseHeader(
      Path path, FileChannel channel, byte[] header, long dataStart, long dataLength) {
    JsonNode root;
    try {
      root = JSON.readTree(new String(header, StandardCharsets.UTF_8));
    } catch (JsonProcessingException e) {
      throw corrupt(path, "header is not valid JSON: " + e.getOriginalMessage());
    }
    if (root == null || !root.isObject()) {
      throw corrupt(path, "header is not a JSON object");
    }
    Map<String, TensorInfo> tensors = new TreeMap<>();
    Map<String, String> metadata = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> field = it.next();
      String name = field.getKey();
      JsonNode entry = field.getValue();
      if (name.equals("__metadata__")) {
        if (!entry.isObject()) {
          throw corrupt(path, "__metadata__ is not an object");
        }
        entry.fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
        continue;
      }
      tensors.put(name, parseEntry(path, name, entry, dataLength));
    }
    checkNoOverlap(path, tensors);
    return new SafetensorsFile(
        path, channel, dataStart, Collections.unmodifiableMap(tensors), metadata);
  }

  private static TensorInfo parseEntry(Path path, String name, JsonNode entry, long dataLength) {
    if (!entry.isObject()) {
      throw corrupt(path, "entry '" + name + "' is not an object");
    }
    String dtypeName = entry.path("dtype").asText("");
    DType dtype =
        DType.byName(dtypeName)
            .orElseThrow(
                () -> corrupt(path, "tensor '" + name + "' has unknown dtype '" + dtypeName + "'"));
    JsonNode shapeNode = entry.path("shape");
    if (!shapeNode.isArray()) {
      throw corrupt(path, "tensor '" + name + "' has no shape array");
    }
    long[] shape = new long[shapeNode.size()];
    for (int i = 0; i < shape.length; i++) {
      JsonNode d = shapeNode.get(i);
      if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0) {
        throw corrupt(path, "tensor '" + name + "' has an invalid shape " + shapeNode);
      }
      shape[i] = d.asLong();
    }
    JsonNode offsets = entry.path("data_offsets");
    if (!offsets.isArray()
        || offsets.size() != 2
        || !offsets.get(0).isIntegralNumber()
        || !offsets.get(1).isIntegralNumber()) {
      throw corrupt(path, "tensor '" + name + "' has invalid data_offsets " + offsets);
    }
    long begin = offsets.get(0).asLong();
    long end = offsets.get(1).asLong();
    if (begin < 0 || end < begin || end > dataLength) {
      throw corrupt(
          path,
          "tensor '"
              + name
              + "' spans bytes ["
              + begin
              + ", "
              + end
              + ") but the data section has "
              + dataLength
              + " bytes (truncated file?)");
    }
    TensorInfo info = new TensorInfo(name, dtype, shape, begin, end);
    long expected;
    try {
      expected = Math.multiplyExact(info.elementCount(), dtype.bytes());
    } catch (ArithmeticException e) {
      throw corrupt(path, "tensor '" + name + "' has an impossibly large shape " + shapeNode);
    }
    if (expected != end - begin) {
      throw corrupt(
          path,
          "tensor '"
              + name
              + "' of "
              + dtype
              + info.shapeString()
              + " needs "
              + expected
              + " bytes but its offsets span "
              + (end - begin));
    }
    return info;
  }

  private static void checkNoOverlap(Path path, Map<String, TensorInfo> tensors) {
    List<TensorInfo> byOffset = new ArrayList<>(tensors.values());
    byOffset.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
    for (int i = 1; i < byOffset.size(); i++) {
      TensorInfo prev = byOffset.get(i - 1);
      TensorInfo cur = byOffset.get(i);
      if (cur.begin() < prev.end()) {
        throw corrupt(
            path, "tensors '" + prev.name() + "' and '" + cur.name() + "' overlap in the data");
      }
    }
  }

  private static SafetensorsException corrupt(Path path, String what) {
    return new SafetensorsException(path + ": not a valid safetensors file: " + what);
  }

  private static void readFully(FileChannel channel, ByteBuffer dst, long position)
      throws IOException {
    long pos = position;
    while (dst.hasRemaining()) {
      int n = channel.read(dst, pos);
      if (n < 0) {
        throw new IOException("unexpected end of file");
      }
      pos += n;
    }
  }

  public Path path() {
    return path;
  }

  @Override
  public String location() {
    return path.toString();
  }

  @Override
  public SortedSet<String> names() {
    return Collections.unmodifiableSortedSet(new TreeSet<>(tensors.keySet()));
  }

  @Override
  public Optional<TensorInfo> find(String name) {
    return Optional.ofNullable(tensors.get(name));
  }

  @Override
  public TensorInfo info(String name) {
    TensorInfo info = tensors.get(name);
    if (info == null) {
      throw new SafetensorsException(path + ": has no tensor '" + name + "'");
    }
    return info;
  }

  @Override
  public Map<String, String> metadata() {
    return Collections.unmodifiableMap(metadata);
  }

  /** The raw little-endian bytes of one tensor, in chunks of at most 1 GiB (element-aligned). */
  interface ChunkConsumer {
    void accept(ByteBuffer littleEndianChunk);
  }

  /**
   * Hands the tensor's bytes to {@code consumer} in chunks of at most 4 MiB, read with positional reads
   * into a per-thread direct buffer: the page cache is copied once, without mapping (and faulting in) the
   * file page by page. A chunk is valid only during its call.
   */
  void forEachChunk(TensorInfo info, ChunkConsumer consumer) {
    ByteBuffer buffer = CHUNK.get();
    try {
      for (long off = info.begin(); off < info.end(); off += CHUNK_BYTES) {
        int len = (int) Math.min(CHUNK_BYTES, info.end() - off);
        buffer.clear().limit(len);
        long position = dataStart + off;
        while (buffer.hasRemaining()) {
          int read = channel.read(buffer, position + buffer.position());
          if (read < 0) {
            throw new IOException("the file ends inside the tensor");
          }
        }
        buffer.flip();
        consumer.accept(buffer.order(ByteOrder.LITTLE_ENDIAN));
      }
    } catch (IOException e) {
      throw new SafetensorsException(
          path + ": cannot read tensor '" + info.name() + "': " + e.getMessage(), e);
    }
  }

  @Override
  public void readFloats(String name, FloatBuffer dst) {
    TensorInfo info = info(name);
    requireFloatingPoint(info);
    requireRoom(info, dst.remaining());
    forEachChunk(info, bytes -> ElementConversion.toFloats(info.dtype(), bytes, dst));
  }

  @Override
  public void readDoubles(String name, DoubleBuffer dst) {
    TensorInfo info = info(name);
    requireFloatingPoint(info);
    requireRoom(info, dst.remaining());
    forEachChunk(info, bytes -> ElementConversion.toDoubles(info.dtype(), bytes, dst));
  }

  private void requireFloatingPoint(TensorInfo info) {
    if (!info.dtype().isFloatingPoint()) {
      throw new SafetensorsException(
          path
              + ": tensor '"
              + info.name()
              + "' is "
              + info.dtype()
              + "; only F64, F32, F16 and BF16 tensors can be read as floating point");
    }
  }

  private void requireRoom(TensorInfo info, int remaining) {
    if (remaining < info.elementCount()) {
      throw new IllegalArgumentException(
          "destination has room for " + remaining + " values, " + info + " has " + info.elementCount());
    }
  }

  @Override
  public void close() {
    closeQuietly(channel);
  }

  private static void closeQuietly(FileChannel channel) {
    try {
      channel.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

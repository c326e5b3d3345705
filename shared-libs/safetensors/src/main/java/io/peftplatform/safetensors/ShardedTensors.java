package io.peftplatform.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A checkpoint split over several safetensors files, as Hugging Face writes large models: an index
 * ({@code model.safetensors.index.json}) whose {@code weight_map} names the shard holding each tensor.
 * Every shard is opened (and its header validated) up front; a tensor the index promises but its shard
 * lacks is an error.
 */
public final class ShardedTensors implements TensorSource {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path index;
  private final Map<String, SafetensorsFile> shardByTensor;
  private final List<SafetensorsFile> shards;

  private ShardedTensors(
      Path index, Map<String, SafetensorsFile> shardByTensor, List<SafetensorsFile> shards) {
    this.index = index;
    this.shardByTensor = shardByTensor;
    this.shards = shards;
  }

  public static ShardedTensors open(Path indexFile) {
    JsonNode root;
    try {
      root = JSON.readTree(Files.readString(indexFile));
    } catch (IOException e) {
      throw new SafetensorsException(indexFile + ": cannot read shard index: " + e.getMessage(), e);
    }
    JsonNode weightMap = root == null ? null : root.get("weight_map");
    if (weightMap == null || !weightMap.isObject() || weightMap.isEmpty()) {
      throw new SafetensorsException(indexFile + ": shard index has no weight_map");
    }
    Path dir = indexFile.toAbsolutePath().getParent();
    Map<String, SafetensorsFile> byFileName = new LinkedHashMap<>();
    Map<String, SafetensorsFile> byTensor = new TreeMap<>();
    try {
      for (var it = weightMap.fields(); it.hasNext(); ) {
        var entry = it.next();
        String fileName = entry.getValue().asText();
        if (fileName.isEmpty() || fileName.contains("/") || fileName.contains("\\")) {
          throw new SafetensorsException(
              indexFile + ": tensor '" + entry.getKey() + "' maps to an invalid shard '" + fileName + "'");
        }
        SafetensorsFile shard =
            byFileName.computeIfAbsent(fileName, f -> SafetensorsFile.open(dir.resolve(f)));
        if (shard.find(entry.getKey()).isEmpty()) {
          throw new SafetensorsException(
              indexFile + ": tensor '" + entry.getKey() + "' is not in its shard " + fileName);
        }
        byTensor.put(entry.getKey(), shard);
      }
    } catch (RuntimeException e) {
      byFileName.values().forEach(SafetensorsFile::close);
      throw e;
    }
    return new ShardedTensors(
        indexFile, Collections.unmodifiableMap(byTensor), new ArrayList<>(byFileName.values()));
  }

  public List<Path> shardPaths() {
    return shards.stream().map(SafetensorsFile::path).toList();
  }

  @Override
  public SortedSet<String> names() {
    return Collections.unmodifiableSortedSet(new TreeSet<>(shardByTensor.keySet()));
  }

  @Override
  public Optional<TensorInfo> find(String name) {
    SafetensorsFile shard = shardByTensor.get(name);
    return shard == null ? Optional.empty() : shard.find(name);
  }

  @Override
  public TensorInfo info(String name) {
    return shard(name).info(name);
  }

  @Override
  public Map<String, String> metadata() {
    return shards.get(0).metadata();
  }

  @Override
  public void readFloats(String name, FloatBuffer dst) {
    shard(name).readFloats(name, dst);
  }

  @Override
  public void readDoubles(String name, DoubleBuffer dst) {
    shard(name).readDoubles(name, dst);
  }

  private SafetensorsFile shard(String name) {
    SafetensorsFile shard = shardByTensor.get(name);
    if (shard == null) {
      throw new SafetensorsException(index + ": has no tensor '" + name + "'");
    }
    return shard;
  }

  @Override
  public String location() {
    return index.toString();
  }

  @Override
  public void close() {
    shards.forEach(SafetensorsFile::close);
  }
}

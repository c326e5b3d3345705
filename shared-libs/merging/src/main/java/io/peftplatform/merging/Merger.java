package io.peftplatform.merging;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftplatform.adapters.Adapter;
import io.peftplatform.adapters.AdapterFiles;
import io.peftplatform.adapters.ModulePlan;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.safetensors.Checkpoints;
import io.peftplatform.safetensors.SafetensorsWriter;
import io.peftplatform.safetensors.TensorInfo;
import io.peftplatform.safetensors.TensorSource;
import io.peftplatform.training.spec.AdapterMethod;
import io.peftplatform.training.spec.AdapterSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Merges adapters of one base model and writes the result: a whole model in Hugging Face layout (the
 * base with the merged ΔW added; one adapter with weight 1 is "merge into base"), or one LoRA adapter
 * holding the best rank-r approximation of the merged ΔW of every module (the SVD merge).
 */
public final class Merger {
  /** Provenance written beside the output. */
  public static final String RECORD = "peft_merge.json";
  /** Hugging Face's default largest shard. */
  public static final long MAX_SHARD_BYTES = 5L * 1000 * 1000 * 1000;
  private static final ObjectMapper JSON = new ObjectMapper();

  private Merger() {}

  /** What was written: the modules changed, and the parameters of the model or adapter. */
  public record Result(int modules, long parameters) {}

  /**
   * Writes the base model with the merged task vectors added, keeping each tensor's storage type. The
   * checkpoint streams through one tensor at a time: memory holds one module's weights, not the model.
   */
  public static Result toModel(Path modelDir, List<Path> adapterDirs, MergeSpec spec, Path output) {
    try (AdapterSet set = AdapterSet.load(modelDir, adapterDirs, DataType.FLOAT)) {
      checkCount(set, spec);
      Map<String, Supplier<float[]>> replaced = new LinkedHashMap<>();
      for (String module : set.modules()) {
        replaced.put(module + ".weight", () -> {
          INDArray weight = set.baseWeight(module);
          return weight.addi(TaskVectorMerge.merge(module, set.taskVectors(module, weight), spec)).data().asFloat();
        });
      }
      long parameters = writeModel(modelDir, set.base(), replaced, output);
      writeRecord(output, adapterDirs, spec, 0);
      return new Result(replaced.size(), parameters);
    }
  }

  /**
   * Writes the base checkpoint with some tensors replaced — {@code replaced} gives a tensor's new values
   * (fp32, stored in the tensor's own type) — streamed one tensor at a time (memory holds one tensor, not
   * the model), sharded when the base was and the output is over 5 GB, beside the base's other files.
   * Returns the parameters written.
   */
  public static long writeModel(Path modelDir, TensorSource source, Map<String, Supplier<float[]>> replaced, Path output) {
    checkOutput(output, Checkpoints.SINGLE_FILE);
    long parameters = 0;
    SafetensorsWriter writer = new SafetensorsWriter().metadata("format", "pt");
    for (String name : source.names()) {
      TensorInfo info = source.info(name);
      if (!info.dtype().isFloatingPoint()) {
        throw new IllegalArgumentException(source.location() + ": tensor " + name + " is " + info.dtype() + "; only float checkpoints merge");
      }
      writer.addLater(name, info.dtype(), info.shape(), replaced.getOrDefault(name, () -> source.readFloats(name)));
      parameters += info.elementCount();
    }
    try {
      Files.createDirectories(output);
      if (Files.exists(modelDir.resolve(Checkpoints.SHARD_INDEX)) && writer.totalBytes() > MAX_SHARD_BYTES) {
        writer.writeSharded(output, MAX_SHARD_BYTES);
      } else {
        writer.write(output.resolve(Checkpoints.SINGLE_FILE));
      }
      copyModelFiles(modelDir, output, Set.of());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + output + ": " + e.getMessage(), e);
    }
    return parameters;
  }

  /**
   * Writes one PEFT LoRA adapter (r = rank, lora_alpha = rank, so scaling 1) whose B·A approximates
   * each module's merged task vector at that rank.
   */
  public static Result toAdapter(Path modelDir, List<Path> adapterDirs, MergeSpec spec, int rank, Path output, String baseModelName) {
    try (AdapterSet set = AdapterSet.load(modelDir, adapterDirs, DataType.FLOAT)) {
      checkCount(set, spec);
      Result r = writeLora(set.config(), set.modules(), module -> TaskVectorMerge.merge(module, set.taskVectors(module), spec), rank,
          output, baseModelName);
      writeRecord(output, adapterDirs, spec, rank);
      return r;
    }
  }

  /**
   * Writes one PEFT LoRA adapter (r = rank, lora_alpha = rank, so scaling 1) on the given modules whose
   * B·A is the best rank-r approximation of {@code update}'s ΔW (out, in) of each (the SVD merge).
   */
  public static Result writeLora(LlamaConfig config, List<String> modules, Function<String, INDArray> update, int rank, Path output,
      String baseModelName) {
    checkOutput(output, AdapterFiles.CONFIG);
    TreeSet<String> targets = new TreeSet<>();
    modules.forEach(m -> targets.add(m.substring(m.lastIndexOf('.') + 1)));
    AdapterSpec loraSpec = AdapterSpec.defaults(AdapterMethod.LORA).withRank(rank).withAlpha(rank).withTargets(new ArrayList<>(targets));
    Adapter lora = Adapter.create(loraSpec, config, DataType.FLOAT);
    for (ModulePlan plan : lora.plans().values()) {
      INDArray delta = modules.contains(plan.module()) ? update.apply(plan.module()) : Nd4j.zeros(DataType.FLOAT, plan.out(), plan.in());
      LowRankFactors f = LowRankFactors.of(plan.module(), delta.castTo(DataType.FLOAT), rank);
      lora.parameters().value(plan.name("lora_A")).assign(f.a());
      lora.parameters().value(plan.name("lora_B")).assign(f.b());
    }
    AdapterFiles.write(lora, output, baseModelName);
    return new Result(lora.plans().size(), lora.parameterCount());
  }

  private static void checkCount(AdapterSet set, MergeSpec spec) {
    if (spec.weights().size() != set.size()) {
      throw new IllegalArgumentException("weights: " + spec.weights().size() + " given for " + set.size() + " adapters");
    }
  }

  static void checkOutput(Path output, String marker) {
    if (Files.exists(output.resolve(marker))) {
      throw new IllegalArgumentException(output + " already holds " + marker + "; choose an empty directory");
    }
  }

  /** Everything but the weights (config, tokenizer, generation config), less the files named in {@code except}. */
  public static void copyModelFiles(Path modelDir, Path output, Set<String> except) throws IOException {
    try (Stream<Path> files = Files.list(modelDir)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        String name = f.getFileName().toString();
        if (!name.endsWith(".safetensors") && !name.equals(Checkpoints.SHARD_INDEX) && !except.contains(name)) {
          Files.copy(f, output.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }

  private static void writeRecord(Path output, List<Path> adapterDirs, MergeSpec spec, int rank) {
    ObjectNode r = JSON.createObjectNode();
    r.put("method", spec.method().cliName());
    var adapters = r.putArray("adapters");
    for (int i = 0; i < adapterDirs.size(); i++) {
      adapters.addObject().put("path", adapterDirs.get(i).toString()).put("weight", spec.weights().get(i));
    }
    if (spec.method().usesDensity()) {
      r.put("density", spec.density());
    }
    if (spec.method() == MergeMethod.DARE_LINEAR || spec.method() == MergeMethod.DARE_TIES) {
      r.put("seed", spec.seed());
    }
    if (rank > 0) {
      r.put("rank", rank);
    }
    try {
      JSON.writerWithDefaultPrettyPrinter().writeValue(output.resolve(RECORD).toFile(), r);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

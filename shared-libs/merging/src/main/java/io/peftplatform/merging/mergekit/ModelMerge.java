package io.peftplatform.merging.mergekit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftplatform.merge.config.MergeConfig.Slice;
import io.peftplatform.merge.config.MergeConfig.Source;
import io.peftplatform.merge.config.MergeConfig;
import io.peftplatform.merge.config.MergeConfigException;
import io.peftplatform.merge.config.ModelReference;
import io.peftplatform.merge.config.ParameterSetting;
import io.peftplatform.merge.config.WholeModelMethod.Kind;
import io.peftplatform.merge.config.WholeModelMethod;
import io.peftplatform.merging.AdapterSet;
import io.peftplatform.merging.Merger;
import io.peftplatform.safetensors.Checkpoints;
import io.peftplatform.safetensors.DType;
import io.peftplatform.safetensors.SafetensorsException;
import io.peftplatform.safetensors.SafetensorsWriter;
import io.peftplatform.safetensors.TensorInfo;
import io.peftplatform.safetensors.TensorSource;
import io.peftplatform.text.ChatTemplate;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Runs a {@link MergeConfig} over whole checkpoints, mergekit's way: each output tensor is merged from
 * the same tensor of every source of its slice (layers renumbered as the slices stack), the embeddings
 * from the first slice's sources and the final norm and LM head from the last one's; parameters are read
 * per tensor (the source's own, then the slice's, then the top-level ones; gradients over a slice's
 * layers, filters by tensor name). The checkpoint streams through tensor by tensor: memory holds one
 * tensor of each source and the result.
 */
public final class ModelMerge {
  private static final Pattern LAYER = Pattern.compile("^model\\.layers\\.(\\d+)\\.(.+)$");
  private static final Set<String> TOKENIZER_FILES = Set.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
      "vocab.json", "merges.txt", "tokenizer.model", "added_tokens.json");
  private static final ObjectMapper JSON = new ObjectMapper();

  private ModelMerge() {}

  /** What was written. */
  public record Result(int tensors, long parameters, int layers, long bytes, List<String> notes) {}

  /** One output tensor: its inputs (one per source of the slice, in order) and where it sits. */
  private record Planned(String name, int slice, double t, List<String> inputNames, long[] shape, DType dtype) {}

  /** A source of a slice, resolved: which input, which layers. */
  private record Resolved(Input input, int layerStart, int layerEnd, Map<String, ParameterSetting> parameters, String field) {}

  public static Result run(MergeConfig config, ModelReference.Resolver resolver, long seed, Path output) {
    if (Files.exists(output.resolve(Checkpoints.SINGLE_FILE)) || Files.exists(output.resolve(Checkpoints.SHARD_INDEX))) {
      throw new MergeConfigException(output + " already holds a model; choose an empty directory");
    }
    Map<String, Input> inputs = new LinkedHashMap<>();
    try {
      for (String name : config.referencedModels()) {
        inputs.put(name, Input.open(ModelReference.resolve(name, resolver)));
      }
      List<String> notes = new ArrayList<>(config.notes());
      List<List<Resolved>> slices = resolveSlices(config, inputs, notes);
      checkOutputLayers(slices, inputs);
      List<Planned> plan = plan(config, slices);
      SafetensorsWriter writer = new SafetensorsWriter().metadata("format", "pt");
      long parameters = 0;
      Buffers buffers = new Buffers();
      for (Planned p : plan) {
        Settings settings = settings(config, slices.get(p.slice()), p);
        writer.addLaterDoubles(p.name(), p.dtype(), p.shape(), () -> mergeTensor(config, slices.get(p.slice()), p, settings, seed, buffers));
        parameters += Arrays.stream(p.shape()).reduce(1, Math::multiplyExact);
      }
      int layers = (int) plan.stream().filter(p -> p.name().startsWith("model.layers.")).map(p -> layerOf(p.name())).distinct().count();
      Files.createDirectories(output);
      if (writer.totalBytes() > Merger.MAX_SHARD_BYTES) {
        writer.writeSharded(output, Merger.MAX_SHARD_BYTES);
      } else {
        writer.write(output.resolve(Checkpoints.SINGLE_FILE));
      }
      Input reference = referenceSource(config, 0, slices.get(0)).input();
      writeModelFiles(config, reference, inputs, resolver, layers, output);
      writeRecord(config, inputs, seed, layers, notes, output);
      return new Result(plan.size(), parameters, layers, writer.totalBytes(), List.copyOf(notes));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + output + ": " + e.getMessage(), e);
    } finally {
      inputs.values().forEach(Input::close);
    }
  }

  private static List<List<Resolved>> resolveSlices(MergeConfig config, Map<String, Input> inputs, List<String> notes) {
    WholeModelMethod method = config.method();
    List<List<Resolved>> out = new ArrayList<>();
    for (int s = 0; s < config.slices().size(); s++) {
      Slice slice = config.slices().get(s);
      List<Resolved> sources = new ArrayList<>();
      for (int i = 0; i < slice.sources().size(); i++) {
        Source src = slice.sources().get(i);
        String field = config.modelsForm() ? "models[" + i + "]" : "slices[" + s + "].sources[" + i + "]";
        Input in = inputs.get(src.model());
        int end = src.layerEnd() == Source.ALL_LAYERS ? in.layers : src.layerEnd();
        if (end > in.layers) {
          throw new MergeConfigException(field + ".layer_range: " + src.model() + " has " + in.layers + " layers, not " + end);
        }
        sources.add(new Resolved(in, src.layerStart(), end, src.parameters(), field));
      }
      String base = slice.baseModel();
      boolean baseListed = base != null && slice.sources().stream().anyMatch(src -> src.model().equals(base));
      if (base != null && !baseListed) {
        if (config.modelsForm() && method.kind() != Kind.LINEAR && method.kind() != Kind.PASSTHROUGH) {
          Input in = inputs.get(base);
          sources.add(new Resolved(in, 0, in.layers, Map.of(), "base_model"));
        } else if (method.needsBase() || method.kind() == Kind.NUSLERP) {
          throw new MergeConfigException("slices[" + s + "]: base_model " + base + " is not among the slice's sources");
        } else if (s == 0) {
          notes.add("base_model is not read by " + method.configName() + " unless listed among the models");
        }
      }
      if (method.needsBase() && base == null) {
        throw new MergeConfigException("base_model: required by " + method.configName());
      }
      int length = sources.get(0).layerEnd() - sources.get(0).layerStart();
      for (Resolved r : sources) {
        if (r.layerEnd() - r.layerStart() != length) {
          throw new MergeConfigException(r.field() + ": " + r.input().name + " has " + (r.layerEnd() - r.layerStart()) + " layers where "
              + sources.get(0).input().name + " has " + length + "; every model of a merge needs the same count (or use slices)");
        }
      }
      int n = sources.size();
      int others = base == null ? n : n - 1;
      String where = config.modelsForm() ? "models" : "slices[" + s + "].sources";
      switch (method.kind()) {
        case SLERP -> require(others == 1, where + ": slerp interpolates between base_model and exactly one other model, got " + others);
        case NUSLERP -> require(others == 2, where + ": nuslerp takes exactly two models (plus an optional base_model), got " + others);
        case MODEL_STOCK -> require(others >= 2, where + ": model_stock needs base_model and at least two other models, got " + others);
        case PASSTHROUGH -> require(n == 1, where + ": passthrough copies exactly one model per slice, got " + n);
        case TASK_ARITHMETIC -> require(others >= 1, where + ": " + method.configName() + " needs at least one model besides base_model");
        case LINEAR -> { }
        default -> throw new IllegalStateException();
      }
      out.add(sources);
    }
    return out;
  }

  /** Stacked slices may grow a model (frankenmerges), but not without bound: at most 4x its largest input. */
  static final int MAX_LAYER_GROWTH = 4;

  private static void checkOutputLayers(List<List<Resolved>> slices, Map<String, Input> inputs) {
    int layers = 0;
    for (List<Resolved> s : slices) {
      layers += s.get(0).layerEnd() - s.get(0).layerStart();
    }
    int largest = inputs.values().stream().mapToInt(in -> in.layers).max().orElse(0);
    if (layers > MAX_LAYER_GROWTH * largest) {
      throw new MergeConfigException("slices: " + layers + " output layers from models of at most " + largest + "; at most "
          + MAX_LAYER_GROWTH + "x the largest input");
    }
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new MergeConfigException(message);
    }
  }

  /** The tensors to write, in order: the first slice's non-layer tensors, every slice's layers, the last slice's head. */
  private static List<Planned> plan(MergeConfig config, List<List<Resolved>> slices) {
    List<Planned> plan = new ArrayList<>();
    Resolved first = referenceSource(config, 0, slices.get(0));
    Resolved last = referenceSource(config, slices.size() - 1, slices.get(slices.size() - 1));
    for (String name : first.input().source.names()) {
      if (!LAYER.matcher(name).matches() && !isHead(name)) {
        plan.add(planned(config, slices, 0, name, 0, name, -1));
      }
    }
    int outLayer = 0;
    for (int s = 0; s < slices.size(); s++) {
      List<Resolved> sources = slices.get(s);
      Resolved ref = referenceSource(config, s, sources);
      int length = sources.get(0).layerEnd() - sources.get(0).layerStart();
      for (int idx = 0; idx < length; idx++) {
        double t = length > 1 ? idx / (double) (length - 1) : 1;
        String prefix = "model.layers." + (ref.layerStart() + idx) + ".";
        for (String name : ref.input().source.names()) {
          if (name.startsWith(prefix)) {
            String suffix = name.substring(prefix.length());
            plan.add(planned(config, slices, s, "model.layers." + outLayer + "." + suffix, t, suffix, idx));
          }
        }
        outLayer++;
      }
    }
    for (String name : last.input().source.names()) {
      if (isHead(name)) {
        plan.add(planned(config, slices, slices.size() - 1, name, 0, name, -1));
      }
    }
    return plan;
  }

  /** layerOffset -1: a non-layer tensor named {@code name} in every source; else {@code model.layers.(start + offset).name}. */
  private static Planned planned(MergeConfig config, List<List<Resolved>> slices, int s, String outName, double t, String name,
      int layerOffset) {
    List<Resolved> sources = slices.get(s);
    Resolved ref = referenceSource(config, s, sources);
    List<String> inputNames = new ArrayList<>();
    TensorInfo refInfo = null;
    for (Resolved r : sources) {
      String in = layerOffset < 0 ? name : "model.layers." + (r.layerStart() + layerOffset) + "." + name;
      TensorInfo info = r.input().source.find(in).orElseThrow(() -> new MergeConfigException(
          r.input().name + " has no tensor " + in + " (the models of a merge must share an architecture)"));
      if (!info.dtype().isFloatingPoint()) {
        throw new MergeConfigException(r.input().name + ": tensor " + in + " is " + info.dtype() + "; only float checkpoints merge");
      }
      if (r == ref) {
        refInfo = info;
      }
      inputNames.add(in);
    }
    for (int i = 0; i < sources.size(); i++) {
      TensorInfo info = sources.get(i).input().source.info(inputNames.get(i));
      if (!Arrays.equals(info.shape(), refInfo.shape())) {
        throw new MergeConfigException(outName + ": " + sources.get(i).input().name + " holds " + info.shapeString() + " where "
            + ref.input().name + " holds " + refInfo.shapeString() + "; differing vocabularies or shapes do not merge");
      }
    }
    DType dtype = config.outputDtype() != null ? config.outputDtype() : refInfo.dtype();
    return new Planned(outName, s, t, inputNames, refInfo.shape(), dtype);
  }

  private static boolean isHead(String name) {
    return name.startsWith("model.norm.") || name.startsWith("lm_head.");
  }

  private static int layerOf(String name) {
    Matcher m = LAYER.matcher(name);
    return m.matches() ? Integer.parseInt(m.group(1)) : -1;
  }

  /** The source whose names, shapes and storage types the output follows: the slice's base, else its first. */
  private static Resolved referenceSource(MergeConfig config, int s, List<Resolved> sources) {
    String base = config.slices().get(s).baseModel();
    return sources.stream().filter(r -> r.input().name.equals(base)).findFirst().orElse(sources.get(0));
  }

  /** A tensor's parameters, read and checked: the method's global ones, one map per source, the base's position (or -1). */
  private record Settings(Map<String, Object> globals, List<Map<String, Object>> perSource, int baseIndex) {}

  /** Reads and type-checks every parameter of one output tensor, before anything is written. */
  private static Settings settings(MergeConfig config, List<Resolved> sources, Planned p) {
    WholeModelMethod method = config.method();
    Slice slice = config.slices().get(p.slice());
    int baseIndex = -1;
    for (int i = 0; i < sources.size(); i++) {
      if (sources.get(i).input().name.equals(slice.baseModel())) {
        baseIndex = i;
      }
    }
    Map<String, Object> globals = new LinkedHashMap<>();
    for (var e : method.globalParameters().entrySet()) {
      Object v = lookup(config, slice, null, e.getKey(), p.name(), p.t());
      if (v == null && e.getValue() == WholeModelMethod.Required.REQUIRED) {
        throw new MergeConfigException("parameters." + e.getKey() + ": required by " + method.configName() + " (for " + p.name() + ")");
      }
      globals.put(e.getKey(), checked(v != null ? v : e.getValue(), e.getValue(), "parameters." + e.getKey()));
    }
    List<Map<String, Object>> perSource = new ArrayList<>();
    for (int i = 0; i < sources.size(); i++) {
      Map<String, Object> params = new LinkedHashMap<>();
      String field = sources.get(i).field() + ".parameters.";
      for (var e : method.tensorParameters().entrySet()) {
        Object v = lookup(config, slice, sources.get(i), e.getKey(), p.inputNames().get(i), p.t());
        if (v == null && e.getValue() == WholeModelMethod.Required.REQUIRED) {
          if (i != baseIndex) {
            throw new MergeConfigException(field + e.getKey() + ": required by " + method.configName() + " (for " + p.name() + ")");
          }
          continue;
        }
        params.put(e.getKey(), checked(v != null ? v : e.getValue(), e.getValue(), field + e.getKey()));
      }
      perSource.add(params);
    }
    return new Settings(globals, perSource, baseIndex);
  }

  /** A value of the default's type: true/false where the default is, a finite number otherwise (null stays null). */
  private static Object checked(Object v, Object defaultValue, String field) {
    if (v == null) {
      return null;
    }
    if (defaultValue instanceof Boolean) {
      if (v instanceof Boolean) {
        return v;
      }
      throw new MergeConfigException(field + ": expected true or false, got " + v);
    }
    if (v instanceof Double d && Double.isFinite(d)) {
      return d;
    }
    throw new MergeConfigException(field + ": expected a finite number, got " + v);
  }

  private static double[] mergeTensor(MergeConfig config, List<Resolved> sources, Planned p, Settings settings, long seed, Buffers buffers) {
    WholeModelMethod method = config.method();
    int rows = p.shape().length >= 2 ? (int) p.shape()[0] : 1;
    int n = Math.toIntExact(Arrays.stream(p.shape()).reduce(1, Math::multiplyExact));
    List<float[]> values = new ArrayList<>();
    for (int i = 0; i < sources.size(); i++) {
      values.add(sources.get(i).input().read(p.inputNames().get(i), buffers.input(i, n)));
    }
    double[] out = buffers.output(n);
    Map<String, Object> globals = settings.globals();
    List<Map<String, Object>> perSource = settings.perSource();
    int baseIndex = settings.baseIndex();
    String name = p.name();
    return switch (method.kind()) {
      case LINEAR -> {
        double[] w = new double[sources.size()];
        for (int i = 0; i < w.length; i++) {
          w[i] = number(perSource.get(i).get("weight"), sources.get(i).field() + ".parameters.weight");
        }
        yield TensorMerge.linear(out, name, values, w, bool(globals.get("normalize"), "parameters.normalize"));
      }
      case TASK_ARITHMETIC -> {
        List<TensorMerge.TaskVector> tvs = new ArrayList<>();
        for (int i = 0; i < sources.size(); i++) {
          if (i == baseIndex) {
            continue;
          }
          Map<String, Object> q = perSource.get(i);
          String f = sources.get(i).field() + ".parameters.";
          tvs.add(new TensorMerge.TaskVector(values.get(i), number(q.get("weight"), f + "weight"), number(q.get("density"), f + "density"),
              q.containsKey("gamma") ? number(q.get("gamma"), f + "gamma") : 0,
              q.containsKey("epsilon") ? number(q.get("epsilon"), f + "epsilon") : 0));
        }
        yield TensorMerge.taskArithmetic(out, name, values.get(baseIndex), tvs, method.sparsification(), method.signConsensus(),
            bool(globals.get("normalize"), "parameters.normalize"), bool(globals.get("rescale"), "parameters.rescale"),
            number(globals.get("lambda"), "parameters.lambda"), rows, seed);
      }
      case SLERP -> {
        float[] other = values.get(baseIndex == 0 ? 1 : 0);
        yield TensorMerge.slerp(out, number(globals.get("t"), "parameters.t"), values.get(baseIndex), other);
      }
      case NUSLERP -> {
        List<Integer> two = new ArrayList<>();
        for (int i = 0; i < sources.size(); i++) {
          if (i != baseIndex) {
            two.add(i);
          }
        }
        int a = two.get(0);
        int b = two.get(1);
        yield TensorMerge.nuslerp(out, values.get(a), values.get(b), number(perSource.get(a).get("weight"), sources.get(a).field() + ".parameters.weight"),
            number(perSource.get(b).get("weight"), sources.get(b).field() + ".parameters.weight"), baseIndex < 0 ? null : values.get(baseIndex),
            rows, bool(globals.get("nuslerp_row_wise"), "parameters.nuslerp_row_wise") && p.shape().length >= 2, // a vector is one row
            bool(globals.get("nuslerp_flatten"), "parameters.nuslerp_flatten"));
      }
      case MODEL_STOCK -> {
        List<float[]> others = new ArrayList<>();
        for (int i = 0; i < sources.size(); i++) {
          if (i != baseIndex) {
            others.add(values.get(i));
          }
        }
        yield TensorMerge.modelStock(out, values.get(baseIndex), others, rows, bool(globals.get("filter_wise"), "parameters.filter_wise"));
      }
      case PASSTHROUGH -> {
        Object scale = perSource.get(0).get("scale");
        yield TensorMerge.scaled(out, values.get(0), scale == null ? 1 : number(scale, sources.get(0).field() + ".parameters.scale"));
      }
    };
  }

  /** mergekit's order: the source's own parameters, then the slice's, then the top-level ones. */
  private static Object lookup(MergeConfig config, Slice slice, Resolved source, String name, String tensor, double t) {
    List<Map<String, ParameterSetting>> levels = new ArrayList<>();
    if (source != null) {
      levels.add(source.parameters());
    }
    levels.add(slice.parameters());
    levels.add(config.parameters());
    for (Map<String, ParameterSetting> level : levels) {
      ParameterSetting setting = level.get(name);
      if (setting != null) {
        Object v = setting.evaluate(tensor, t);
        if (v != null) {
          return v;
        }
      }
    }
    return null;
  }

  /** A value {@link #checked} already; the field names it should a method read a parameter it does not declare. */
  private static double number(Object v, String field) {
    if (v instanceof Double d) {
      return d;
    }
    throw new IllegalStateException(field + ": " + v);
  }

  private static boolean bool(Object v, String field) {
    if (v instanceof Boolean b) {
      return b;
    }
    throw new IllegalStateException(field + ": " + v);
  }

  /** config.json (layer count, dtype), generation config and the rest from the reference; the tokenizer from its source. */
  private static void writeModelFiles(MergeConfig config, Input reference, Map<String, Input> inputs, ModelReference.Resolver resolver,
      int layers, Path output) throws IOException {
    Path tokenizerDir;
    String source = config.tokenizerSource();
    if (source == null || source.equals("base")) {
      tokenizerDir = (config.baseModel() != null ? inputs.get(config.baseModel()) : reference).dir;
    } else {
      Input in = inputs.get(source);
      tokenizerDir = in != null ? in.dir : ModelReference.resolve(source, resolver).model();
    }
    Set<String> except = new HashSet<>(TOKENIZER_FILES);
    except.add(Merger.RECORD);
    Merger.copyModelFiles(reference.dir, output, except);
    for (String name : TOKENIZER_FILES) {
      Path f = tokenizerDir.resolve(name);
      if (Files.isRegularFile(f)) {
        Files.copy(f, output.resolve(name), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    Path configJson = output.resolve("config.json");
    if (Files.isRegularFile(configJson)) {
      ObjectNode c = (ObjectNode) JSON.readTree(configJson.toFile());
      c.put("num_hidden_layers", layers);
      if (config.outputDtype() != null) {
        c.put("torch_dtype", MergeConfig.dtypeName(config.outputDtype()));
      }
      JSON.writerWithDefaultPrettyPrinter().writeValue(configJson.toFile(), c);
    }
    if (config.chatTemplate() != null) {
      String template = config.chatTemplate().equals("chatml") ? ChatTemplate.DEFAULT_CHATML : config.chatTemplate();
      Path tc = output.resolve("tokenizer_config.json");
      ObjectNode node = Files.isRegularFile(tc) ? (ObjectNode) JSON.readTree(tc.toFile()) : JSON.createObjectNode();
      node.put("chat_template", template);
      JSON.writerWithDefaultPrettyPrinter().writeValue(tc.toFile(), node);
    }
  }

  private static void writeRecord(MergeConfig config, Map<String, Input> inputs, long seed, int layers, List<String> notes, Path output)
      throws IOException {
    ObjectNode r = JSON.createObjectNode();
    r.put("method", config.method().configName());
    r.put("format", "mergekit");
    if (config.baseModel() != null) {
      r.put("base_model", config.baseModel());
    }
    var models = r.putArray("models");
    for (Input in : inputs.values()) {
      ObjectNode m = models.addObject().put("name", in.name).put("path", in.dir.toString());
      in.adapter.ifPresent(a -> m.put("adapter", a.toString()));
    }
    r.put("layers", layers);
    if (config.method().sparsification() == WholeModelMethod.Sparsification.RANDOM
        || config.method().sparsification() == WholeModelMethod.Sparsification.DELLA_MAGPRUNE) {
      r.put("seed", seed);
    }
    var n = r.putArray("notes");
    notes.forEach(n::add);
    JSON.writerWithDefaultPrettyPrinter().writeValue(output.resolve(Merger.RECORD).toFile(), r);
  }

  /**
   * Arrays kept for the whole merge, by length (a Llama checkpoint has a handful of tensor sizes): one
   * input array per source, two outputs per length — the writer writes one while the next is computed,
   * and asks for a third only after the first is written. No tensor-sized garbage, so no collector pauses.
   */
  private static final class Buffers {
    private final Map<Long, float[]> inputs = new HashMap<>();
    private final Map<Integer, double[][]> outputs = new HashMap<>();
    private final Map<Integer, Integer> turns = new HashMap<>();

    float[] input(int source, int n) {
      return inputs.computeIfAbsent(((long) source << 32) | n, k -> new float[n]);
    }

    /** An array of length n to overwrite, alternating between two. */
    double[] output(int n) {
      double[][] ring = outputs.computeIfAbsent(n, k -> new double[2][]);
      int turn = turns.merge(n, 1, Integer::sum) & 1;
      if (ring[turn] == null) {
        ring[turn] = new double[n];
      }
      return ring[turn];
    }
  }

  /** One model of the merge, open: its tensors, layer count, and the adapter folded into it if any. */
  private static final class Input implements AutoCloseable {
    final String name;
    final Path dir;
    final TensorSource source;
    final int layers;
    final Optional<Path> adapter;
    private final AdapterSet folded;
    private final Set<String> foldedModules;

    private Input(String name, Path dir, TensorSource source, int layers, Optional<Path> adapter, AdapterSet folded) {
      this.name = name;
      this.dir = dir;
      this.source = source;
      this.layers = layers;
      this.adapter = adapter;
      this.folded = folded;
      this.foldedModules = folded == null ? Set.of() : new TreeSet<>(folded.modules());
    }

    static Input open(ModelReference ref) {
      Path dir = ref.model();
      int layers;
      try {
        JsonNode c = JSON.readTree(dir.resolve("config.json").toFile());
        layers = c.path("num_hidden_layers").asInt(-1);
      } catch (IOException e) {
        throw new MergeConfigException(ref.name() + ": no readable config.json in " + dir);
      }
      if (layers <= 0) {
        throw new MergeConfigException(ref.name() + ": config.json has no num_hidden_layers");
      }
      TensorSource source;
      try {
        source = Checkpoints.open(dir);
      } catch (SafetensorsException e) {
        throw new MergeConfigException(ref.name() + ": " + e.getMessage());
      }
      AdapterSet folded = ref.adapter().map(a -> AdapterSet.load(dir, List.of(a), DataType.DOUBLE)).orElse(null);
      return new Input(ref.name(), dir, source, layers, ref.adapter(), folded);
    }

    /** The tensor in fp32 into {@code dst}; a module the folded adapter changes as W + ΔW, rounded once to fp32. */
    float[] read(String tensor, float[] dst) {
      String module = tensor.endsWith(".weight") ? tensor.substring(0, tensor.length() - ".weight".length()) : null;
      if (module != null && foldedModules.contains(module)) {
        INDArray w = folded.baseWeight(module);
        INDArray merged = w.add(folded.taskVectors(module, w).get(0));
        float[] values = merged.castTo(DataType.FLOAT).data().asFloat();
        System.arraycopy(values, 0, dst, 0, dst.length);
        return dst;
      }
      source.readFloats(tensor, FloatBuffer.wrap(dst));
      return dst;
    }

    @Override
    public void close() {
      source.close();
      if (folded != null) {
        folded.close();
      }
    }
  }
}

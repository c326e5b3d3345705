package io.peftplatform.llama;

import io.peftplatform.llama.config.CheckpointLayout;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.config.WeightNames;
import io.peftplatform.safetensors.DType;
import io.peftplatform.safetensors.SafetensorsWriter;
import io.peftplatform.safetensors.TensorSource;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * All frozen weights of a model, held in the compute precision (fp32, or fp64 for gradient checks)
 * whatever precision the checkpoint stores — or, for training from a BF16 checkpoint, with the decoder
 * projections kept in BF16 ({@link #load(LlamaConfig, TensorSource, DataType, boolean)}). Shapes: V = vocabulary, D = hidden.
 */
public final class LlamaWeights {
  public final INDArray embedTokens; // (V, D)
  public final LayerWeights[] layers;
  public final INDArray finalNorm; // (D)
  public final INDArray lmHead; // (V, D); the same array as embedTokens when embeddings are tied

  public LlamaWeights(INDArray embedTokens, LayerWeights[] layers, INDArray finalNorm, INDArray lmHead) {
    this.embedTokens = embedTokens;
    this.layers = layers;
    this.finalNorm = finalNorm;
    this.lmHead = lmHead;
  }

  public DataType dataType() {
    return embedTokens.dataType();
  }

  /** Loads and converts every weight to {@code dataType} (FLOAT or DOUBLE). */
  public static LlamaWeights load(LlamaConfig config, TensorSource source, DataType dataType) {
    return load(config, source, dataType, false);
  }

  /**
   * Loads every weight in {@code dataType} (FLOAT or DOUBLE) — except, with {@code keepBf16Projections}
   * and FLOAT, the decoder projections the checkpoint stores in BF16, which stay BF16 in memory (half
   * the bytes; exact, since every BF16 value is an fp32 value) and are widened to fp32 per product by
   * {@link io.peftplatform.llama.nn.FrozenLinear}. Embeddings, norms and the LM head stay fp32.
   */
  public static LlamaWeights load(LlamaConfig config, TensorSource source, DataType dataType, boolean keepBf16Projections) {
    CheckpointLayout.validate(config, source);
    return build(config, (name, shape) -> {
      boolean bf16 = keepBf16Projections && dataType == DataType.FLOAT && isProjection(name) && source.info(name).dtype() == DType.BF16;
      INDArray a = allocate(dataType, shape);
      if (dataType == DataType.DOUBLE) {
        source.readDoubles(name, a.data().asNioDouble());
      } else {
        source.readFloats(name, a.data().asNioFloat());
      }
      return bf16 ? toBf16(a) : a;
    });
  }

  /** Whether {@code name} is a decoder projection's weight (q/k/v/o, gate/up/down). */
  static boolean isProjection(String name) {
    return name.endsWith("_proj.weight");
  }

  /** An fp32 array as BF16 (round to nearest even), the fp32 one released; a BF16 one as it is. */
  private static INDArray toBf16(INDArray a) {
    if (a.dataType() == DataType.BFLOAT16) {
      return a;
    }
    INDArray b;
    try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
      b = a.castTo(DataType.BFLOAT16);
    }
    a.close();
    return b;
  }

  /**
   * These weights with the decoder projections stored in BF16 (rounded: for a model whose values are
   * BF16 already, exact) — what loading a BF16 checkpoint with {@code keepBf16Projections} gives; for
   * benchmarks and tests of that path on random weights, and for BF16 products. The fp32 projection arrays are released: use
   * only the returned weights afterwards.
   */
  public LlamaWeights withBf16Projections() {
    LayerWeights[] converted = new LayerWeights[layers.length];
    for (int i = 0; i < layers.length; i++) {
      LayerWeights l = layers[i];
      converted[i] = new LayerWeights(l.inputNorm, toBf16(l.qProj), toBf16(l.kProj), toBf16(l.vProj), toBf16(l.oProj),
          l.qBias, l.kBias, l.vBias, l.oBias, l.postAttentionNorm, toBf16(l.gateProj), toBf16(l.upProj), toBf16(l.downProj),
          l.gateBias, l.upBias, l.downBias);
    }
    return new LlamaWeights(embedTokens, converted, finalNorm, lmHead);
  }

  /** Bytes the weights hold in memory (the tied head counted once). */
  public long bytes() {
    long n = embedTokens.length() * embedTokens.dataType().width() + finalNorm.length() * finalNorm.dataType().width();
    if (lmHead != embedTokens) {
      n += lmHead.length() * lmHead.dataType().width();
    }
    for (LayerWeights l : layers) {
      for (INDArray a : new INDArray[] {l.inputNorm, l.postAttentionNorm, l.qProj, l.kProj, l.vProj, l.oProj, l.gateProj, l.upProj,
          l.downProj, l.qBias, l.kBias, l.vBias, l.oBias, l.gateBias, l.upBias, l.downBias}) {
        if (a != null) {
          n += a.length() * a.dataType().width();
        }
      }
    }
    return n;
  }

  /**
   * Random weights as Hugging Face initialises a new Llama: linear and embedding weights from
   * N(0, 0.02²), norms 1, biases 0. Each tensor draws from its own stream split off one seeded
   * generator, in checkpoint order, so the same seed always gives the same model.
   */
  public static LlamaWeights random(LlamaConfig config, long seed, DataType dataType) {
    SplittableRandom root = new SplittableRandom(seed);
    return build(config, (name, shape) -> {
      SplittableRandom rng = root.split();
      INDArray a = allocate(dataType, shape);
      long n = a.length();
      if (name.endsWith("norm.weight")) {
        a.assign(1.0);
      } else if (name.endsWith(".bias")) {
        a.assign(0.0);
      } else if (dataType == DataType.DOUBLE) {
        DoubleBuffer buf = a.data().asNioDouble();
        for (long i = 0; i < n; i++) {
          buf.put(rng.nextGaussian() * 0.02);
        }
      } else {
        FloatBuffer buf = a.data().asNioFloat();
        for (long i = 0; i < n; i++) {
          buf.put((float) (rng.nextGaussian() * 0.02));
        }
      }
      return a;
    });
  }

  private interface TensorFactory {
    INDArray make(String name, long[] shape);
  }

  private static LlamaWeights build(LlamaConfig c, TensorFactory factory) {
    Map<String, long[]> shapes = CheckpointLayout.expectedShapes(c);
    Map<String, INDArray> t = new LinkedHashMap<>();
    shapes.forEach((name, shape) -> t.put(name, factory.make(name, shape)));
    LayerWeights[] layers = new LayerWeights[c.numLayers()];
    for (int i = 0; i < layers.length; i++) {
      int layer = i;
      java.util.function.Function<String, INDArray> w = m -> t.get(WeightNames.linearModule(layer, m) + ".weight");
      java.util.function.Function<String, INDArray> b = m -> t.get(WeightNames.linearModule(layer, m) + ".bias");
      layers[i] = new LayerWeights(
          t.get(WeightNames.inputNorm(i)),
          w.apply("q_proj"), w.apply("k_proj"), w.apply("v_proj"), w.apply("o_proj"),
          b.apply("q_proj"), b.apply("k_proj"), b.apply("v_proj"), b.apply("o_proj"),
          t.get(WeightNames.postAttentionNorm(i)),
          w.apply("gate_proj"), w.apply("up_proj"), w.apply("down_proj"),
          b.apply("gate_proj"), b.apply("up_proj"), b.apply("down_proj"));
    }
    INDArray embed = t.get(WeightNames.EMBED_TOKENS);
    INDArray head = c.tieWordEmbeddings() ? embed : t.get(WeightNames.LM_HEAD);
    return new LlamaWeights(embed, layers, t.get(WeightNames.FINAL_NORM), head);
  }

  private static INDArray allocate(DataType dataType, long[] shape) {
    try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
      return Nd4j.createUninitialized(dataType, shape, 'c');
    }
  }

  /** Every tensor by its checkpoint name (lm_head omitted when tied). */
  public Map<String, INDArray> byName(LlamaConfig c) {
    Map<String, INDArray> out = new LinkedHashMap<>();
    out.put(WeightNames.EMBED_TOKENS, embedTokens);
    for (int i = 0; i < layers.length; i++) {
      LayerWeights l = layers[i];
      out.put(WeightNames.inputNorm(i), l.inputNorm);
      for (String m : WeightNames.LINEAR_MODULES) {
        out.put(WeightNames.linearModule(i, m) + ".weight", l.weight(m));
        if (l.bias(m) != null) {
          out.put(WeightNames.linearModule(i, m) + ".bias", l.bias(m));
        }
      }
      out.put(WeightNames.postAttentionNorm(i), l.postAttentionNorm);
    }
    out.put(WeightNames.FINAL_NORM, finalNorm);
    if (!c.tieWordEmbeddings()) {
      out.put(WeightNames.LM_HEAD, lmHead);
    }
    return out;
  }

  /** Adds every tensor to a writer, stored as {@code storage}. */
  public void addTo(SafetensorsWriter writer, LlamaConfig c, DType storage) {
    byName(c).forEach((name, stored) -> {
      INDArray a = stored.dataType() == DataType.BFLOAT16 ? stored.castTo(DataType.FLOAT) : stored;
      if (a.dataType() == DataType.DOUBLE) {
        writer.add(name, storage, a.shape(), a.data().asNioDouble());
      } else {
        writer.add(name, storage, a.shape(), a.data().asNioFloat());
      }
    });
  }
}

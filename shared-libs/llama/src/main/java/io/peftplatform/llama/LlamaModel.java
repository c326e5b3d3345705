package io.peftplatform.llama;

import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.config.RopeScaling;
import io.peftplatform.llama.config.WeightNames;
import io.peftplatform.llama.config.ModelException;
import io.peftplatform.llama.nn.Arena;
import io.peftplatform.llama.nn.Attention;
import io.peftplatform.llama.nn.BlockActivations;
import io.peftplatform.llama.nn.CrossEntropy;
import io.peftplatform.llama.nn.FrozenLinear;
import io.peftplatform.llama.nn.LinearLayer;
import io.peftplatform.llama.nn.Positions;
import io.peftplatform.llama.nn.Profiler;
import io.peftplatform.llama.nn.RmsNorm;
import io.peftplatform.llama.nn.Rope;
import io.peftplatform.text.dataset.PaddedBatch;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The causal language model: token embedding, decoder blocks, final norm, LM head. Stateless between
 * calls except for what callers pass in — an {@link Arena} of activation buffers and, when generating,
 * a {@link KvCache}.
 */
public final class LlamaModel {
  /** Scratch for the temporaries ND4J ops allocate inside one block; reset after each block. */
  private static final WorkspaceConfiguration BLOCK_WORKSPACE =
      WorkspaceConfiguration.builder()
          .initialSize(0)
          .overallocationLimit(0.2)
          .policyAllocation(AllocationPolicy.OVERALLOCATE)
          .policyLearning(LearningPolicy.FIRST_LOOP)
          .build();

  /** Builds the linear layer of one module, given the frozen base projection. */
  @FunctionalInterface
  public interface LinearFactory {
    LinearLayer create(int layer, String module, FrozenLinear base);
  }

  private final LlamaConfig config;
  private final LlamaWeights weights;
  private final Rope rope;
  private final DecoderBlock[] blocks;

  public LlamaModel(LlamaConfig config, LlamaWeights weights) {
    this(config, weights, (layer, module, base) -> base);
  }

  public LlamaModel(LlamaConfig config, LlamaWeights weights, LinearFactory linears) {
    this.config = config;
    this.weights = weights;
    this.rope = new Rope(RopeScaling.inverseFrequencies(config.headDim(), config.ropeTheta(), config.ropeScaling()));
    this.blocks = new DecoderBlock[config.numLayers()];
    for (int i = 0; i < blocks.length; i++) {
      LayerWeights w = weights.layers[i];
      LinearLayer[] l = new LinearLayer[WeightNames.LINEAR_MODULES.size()];
      for (int m = 0; m < l.length; m++) {
        String module = WeightNames.LINEAR_MODULES.get(m);
        l[m] = linears.create(i, module, new FrozenLinear(w.weight(module), w.bias(module)));
      }
      blocks[i] = new DecoderBlock(i, config, w, l);
    }
  }

  public LlamaConfig config() {
    return config;
  }

  public LlamaWeights weights() {
    return weights;
  }

  public DecoderBlock block(int i) {
    return blocks[i];
  }

  public DataType dataType() {
    return weights.dataType();
  }

  /**
   * Positions for B sequences of Tq tokens starting at {@code offset}, attending over Tk keys.
   *
   * @param keyMask (B·Tk) 1 for real tokens, 0 for padding; null when all are real
   */
  public Positions positions(int batch, int tq, int tk, int offset, int[] keyMask, Arena arena) {
    int[] pos = new int[batch * tq];
    for (int b = 0; b < batch; b++) {
      for (int t = 0; t < tq; t++) {
        pos[b * tq + t] = offset + t;
      }
    }
    INDArray cos = arena.get("rope.cos", pos.length, rope.halfDim());
    INDArray sin = arena.get("rope.sin", pos.length, rope.halfDim());
    rope.tables(cos, sin, pos);
    INDArray negSin = arena.get("rope.negsin", pos.length, rope.halfDim());
    sin.mul(-1.0, negSin);
    INDArray mask = arena.get("attn.mask", batch, tq, tk);
    Attention.causalMask(mask, keyMask, offset, config.slidingWindow());
    return new Positions(batch, tq, tk, offset, cos, sin, negSin, mask);
  }

  /** h (N, D) = embedding rows of the tokens. */
  public void embed(INDArray h, int[] tokens) {
    for (int t : tokens) {
      if (t < 0 || t >= config.vocabSize()) {
        throw new ModelException("token id " + t + " is outside the vocabulary of " + config.vocabSize());
      }
    }
    Nd4j.pullRows(weights.embedTokens, h, 1, tokens);
  }

  /**
   * Runs the decoder over B·T tokens and returns the final-normed hidden states (N, D), a view into
   * the arena valid until its next use.
   *
   * @param cache key/value cache when generating (batch 1), else null
   */
  public INDArray hiddenStates(int[] tokens, int batch, int seqLen, int[] attentionMask, KvCache cache, Arena arena) {
    if (tokens.length != batch * seqLen) {
      throw new IllegalArgumentException(tokens.length + " tokens for a batch of " + batch + " x " + seqLen);
    }
    int offset = cache == null ? 0 : cache.length();
    int tk = offset + seqLen;
    if (cache != null && batch != 1) {
      throw new IllegalArgumentException("the key/value cache holds one sequence");
    }
    long n = (long) batch * seqLen;
    int d = config.hiddenSize();
    INDArray h = arena.get("h", n, d);
    embed(h, tokens);
    Positions p = positions(batch, seqLen, tk, offset, cache == null ? attentionMask : null, arena);
    BlockActivations a = new BlockActivations(arena, "blk.", "blk.", batch, seqLen, tk, d,
        config.intermediateSize(), config.numHeads(), config.numKvHeads(), config.headDim());
    for (DecoderBlock block : blocks) {
      try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(BLOCK_WORKSPACE, "peft-block")) {
        block.forward(h, h, a, p, cache, arena);
      }
    }
    if (cache != null) {
      cache.advance(seqLen);
    }
    INDArray normed = arena.get("final.normed", n, d);
    RmsNorm.forward(normed, arena.get("final.rstd", n), h, weights.finalNorm, config.rmsNormEps());
    return normed;
  }

  /**
   * One training pass: forward keeping each block's activations, the loss, and backward through every
   * block, so each adapter holds ∂(scale · Σ loss)/∂θ added to what it held. Frozen weights get no
   * gradient. Returns the summed loss of the batch's scored positions.
   */
  public CrossEntropy.Sum forwardBackward(PaddedBatch batch, double lossScale, Arena arena) {
    int b = batch.batchSize();
    int t = batch.seqLen();
    long n = (long) b * t;
    int d = config.hiddenSize();
    Positions p = positions(b, t, t, 0, batch.attentionMask(), arena);
    BlockActivations[] acts = new BlockActivations[blocks.length];
    INDArray h = arena.get("h", n, d);
    embed(h, batch.tokens());
    for (int i = 0; i < blocks.length; i++) {
      acts[i] = new BlockActivations(arena, "l" + i + ".", "train.", b, t, t, d,
          config.intermediateSize(), config.numHeads(), config.numKvHeads(), config.headDim());
      acts[i].input.assign(h);
      try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(BLOCK_WORKSPACE, "peft-block")) {
        blocks[i].forward(h, acts[i].input, acts[i], p, null, arena);
      }
    }
    INDArray rstd = arena.get("final.rstd", n);
    INDArray normed = arena.get("final.normed", n, d);
    RmsNorm.forward(normed, rstd, h, weights.finalNorm, config.rmsNormEps());
    INDArray dNormed = arena.get("final.dNormed", n, d);
    CrossEntropy.Sum sum;
    Profiler.start();
    try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(BLOCK_WORKSPACE, "peft-head")) {
      sum = CrossEntropy.forwardBackward(normed, batch.targets(), weights.lmHead, lossScale, dNormed, arena);
    }
    Profiler.mark("lm head + loss (fwd+bwd)");
    INDArray dh = arena.zeros("dh", n, d);
    RmsNorm.backward(dh, dNormed, h, rstd, weights.finalNorm, arena);
    for (int i = blocks.length - 1; i >= 0; i--) {
      try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(BLOCK_WORKSPACE, "peft-block")) {
        blocks[i].backward(dh, dh, acts[i], p, arena);
      }
    }
    return sum;
  }

  /** Summed cross-entropy of a batch's scored positions, and how many there are. */
  public CrossEntropy.Sum loss(PaddedBatch batch, Arena arena) {
    INDArray hidden = hiddenStates(batch.tokens(), batch.batchSize(), batch.seqLen(), batch.attentionMask(), null, arena);
    try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(BLOCK_WORKSPACE, "peft-head")) {
      return CrossEntropy.forward(hidden, batch.targets(), weights.lmHead, arena);
    }
  }

  /** Logits (B·T, V) for every position; for tests and small inputs only. */
  public INDArray logits(int[] tokens, int batch, int seqLen, int[] attentionMask, Arena arena) {
    INDArray hidden = hiddenStates(tokens, batch, seqLen, attentionMask, null, arena);
    INDArray logits = Nd4j.create(dataType(), hidden.size(0), config.vocabSize());
    Nd4j.gemm(hidden, weights.lmHead, logits, false, true, 1.0, 0.0);
    return logits;
  }

  /**
   * Feeds new tokens of one sequence through the cache and returns the logits of the last one, in
   * fp32 or fp64 as the model computes.
   */
  public double[] nextTokenLogits(int[] newTokens, KvCache cache, Arena arena) {
    INDArray hidden = hiddenStates(newTokens, 1, newTokens.length, null, cache, arena);
    INDArray last = hidden.getRow(hidden.size(0) - 1).reshape(1, config.hiddenSize());
    INDArray logits = arena.get("gen.logits", 1, config.vocabSize());
    Nd4j.gemm(last, weights.lmHead, logits, false, true, 1.0, 0.0);
    return logits.toDoubleVector();
  }
}

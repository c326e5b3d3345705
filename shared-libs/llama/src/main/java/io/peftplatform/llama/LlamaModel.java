package io.peftplatform.llama;

import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.config.ModelException;
import io.peftplatform.llama.config.RopeScaling;
import io.peftplatform.llama.config.WeightNames;
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
import java.util.ArrayList;
import java.util.List;
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
  private final List<FrozenLinear> projections = new ArrayList<>();
  private boolean activationCheckpointing;
  private INDArray bf16LmHead; // the losses' head with bf16Products, else null

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
        FrozenLinear projection = new FrozenLinear(w.weight(module), w.bias(module));
        projections.add(projection);
        l[m] = linears.create(i, module, projection);
      }
      blocks[i] = new DecoderBlock(i, config, w, l);
    }
  }

  public LlamaConfig config() {
    return config;
  }

  /**
   * Activation checkpointing per decoder layer: training keeps only each block's input and recomputes the
   * block's forward just before its backward — one more forward per step, for the memory of one block's
   * activations instead of every block's. The numbers are the same either way.
   */
  public LlamaModel activationCheckpointing(boolean on) {
    this.activationCheckpointing = on;
    return this;
  }

  public boolean activationCheckpointing() {
    return activationCheckpointing;
  }

  /**
   * The decoder's frozen projections multiply in BF16 (see {@link FrozenLinear}): needs the weights'
   * projections held in BF16 ({@link LlamaWeights#withBf16Projections}). The loss's LM head does too, on
   * a BF16 copy of it (see {@link CrossEntropy}); the adapters, attention, norms and every gradient of a
   * trained parameter stay fp32. Generation's logits stay fp32.
   */
  public LlamaModel bf16Products(boolean on) {
    for (FrozenLinear p : projections) {
      p.bf16Products(on);
    }
    try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
      bf16LmHead = on ? weights.lmHead.castTo(DataType.BFLOAT16) : null;
    }
    return this;
  }

  /** The head the losses multiply by: the weights' own, or its BF16 copy with {@link #bf16Products}. */
  private INDArray lossHead() {
    return bf16LmHead != null ? bf16LmHead : weights.lmHead;
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
   * Positions for B sequences of Tq tokens starting at {@code offset}, attending over Tk keys. In a
   * packed row each example's positions start again at 0.
   *
   * @param keyMask (B·Tk) 0 for padding, else the token's example number (1 for all real tokens of an
   *     unpacked row; 1, 2, 3 … along a packed one); null when all are real
   */
  public Positions positions(int batch, int tq, int tk, int offset, int[] keyMask, Arena arena) {
    int[] pos = new int[batch * tq];
    for (int b = 0; b < batch; b++) {
      int start = 0;
      for (int t = 0; t < tq; t++) {
        if (keyMask != null && tq == tk && t > 0 && keyMask[b * tk + t] != 0 && keyMask[b * tk + t] != keyMask[b * tk + t - 1]) {
          start = t; // the next example of a packed row
        }
        pos[b * tq + t] = offset + t - start;
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
    return hiddenStates(tokens, batch, seqLen, attentionMask, cache, arena, null);
  }

  /** Sees the residual stream leaving each decoder block during a forward pass. */
  @FunctionalInterface
  public interface BlockObserver {
    /** @param output (N, D) block {@code layer}'s output, valid only during the call */
    void blockOutput(int layer, INDArray output);
  }

  /** {@link #hiddenStates(int[], int, int, int[], KvCache, Arena)}, showing each block's output to {@code observer} (or null). */
  public INDArray hiddenStates(int[] tokens, int batch, int seqLen, int[] attentionMask, KvCache cache, Arena arena,
      BlockObserver observer) {
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
        block.forward(h, h, a, p, cache, arena, false);
      }
      if (observer != null) {
        observer.blockOutput(block.index(), h);
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
    return forwardBackward(batch, arena, (normed, dNormed) ->
        CrossEntropy.forwardBackward(normed, batch.targets(), lossHead(), lossScale, dNormed, arena));
  }

  /** Gradient scales for the rows of a batch, chosen once their losses are known (DPO's, for one). */
  @FunctionalInterface
  public interface RowWeights {
    /**
     * @param rowLoss (B) each row's summed cross-entropy over its scored positions
     * @return (B) each row's scale: the pass leaves ∂(Σ scale_b · rowLoss_b)/∂θ
     */
    double[] scales(double[] rowLoss);
  }

  /**
   * {@link #forwardBackward(PaddedBatch, double, Arena)} with each row's scale decided from the rows'
   * losses: the head runs once more (for the losses) before its backward, the blocks do not.
   */
  public CrossEntropy.Sum forwardBackward(PaddedBatch batch, RowWeights rowWeights, Arena arena) {
    return forwardBackward(batch, arena, (normed, dNormed) -> {
      double[] perPosition = new double[batch.targets().length];
      CrossEntropy.forward(normed, batch.targets(), lossHead(), perPosition, arena);
      double[] scales = rowWeights.scales(sumByRow(perPosition, batch));
      double[] positionScale = new double[perPosition.length];
      for (int i = 0; i < positionScale.length; i++) {
        positionScale[i] = scales[i / batch.seqLen()];
      }
      return CrossEntropy.forwardBackward(normed, batch.targets(), lossHead(), positionScale, dNormed, arena);
    });
  }

  /** (B) each row's summed cross-entropy over its scored positions; forward only. */
  public double[] rowLosses(PaddedBatch batch, Arena arena) {
    INDArray hidden = hiddenStates(batch.tokens(), batch.batchSize(), batch.seqLen(), batch.attentionMask(), null, arena);
    double[] perPosition = new double[batch.targets().length];
    try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(BLOCK_WORKSPACE, "peft-head")) {
      CrossEntropy.forward(hidden, batch.targets(), lossHead(), perPosition, arena);
    }
    return sumByRow(perPosition, batch);
  }

  private static double[] sumByRow(double[] perPosition, PaddedBatch batch) {
    double[] rows = new double[batch.batchSize()];
    for (int i = 0; i < perPosition.length; i++) {
      rows[i / batch.seqLen()] += perPosition[i];
    }
    return rows;
  }

  /** The loss and ∂loss/∂(final normed hidden states), written into its second argument. */
  @FunctionalInterface
  public interface Head {
    /**
     * @param normed (N, D) the final-normed hidden states
     * @param dNormed (N, D) overwritten with ∂loss/∂normed
     */
    CrossEntropy.Sum lossAndGradient(INDArray normed, INDArray dNormed);
  }

  /** A loss on the residual stream leaving some decoder blocks, beside the head's. */
  public interface BlockLoss {
    /** Whether the loss reads block {@code layer}'s output. */
    boolean reads(int layer);

    /**
     * Adds the loss's gradient on block {@code layer}'s output to dOutput; the loss keeps its own value.
     *
     * @param output (N, D) block {@code layer}'s output in the forward pass
     * @param dOutput (N, D) ∂L/∂output so far
     */
    void addGradient(int layer, INDArray output, INDArray dOutput);
  }

  /**
   * One pass for any objective on the outputs: forward keeping each block's activations, the head's loss
   * and gradient, then backward through every block, adding {@code blockLoss}'s gradient (when not null)
   * where it reads a block's output. Adapters and other trainable layers accumulate their gradients.
   * Returns the head's loss.
   */
  public CrossEntropy.Sum forwardBackward(PaddedBatch batch, Head head, BlockLoss blockLoss, Arena arena) {
    return forwardBackward(batch, arena, head, blockLoss);
  }

  private CrossEntropy.Sum forwardBackward(PaddedBatch batch, Arena arena, Head head) {
    return forwardBackward(batch, arena, head, null);
  }

  private CrossEntropy.Sum forwardBackward(PaddedBatch batch, Arena arena, Head head, BlockLoss blockLoss) {
    int b = batch.batchSize();
    int t = batch.seqLen();
    long n = (long) b * t;
    int d = config.hiddenSize();
    Positions p = positions(b, t, t, 0, batch.attentionMask(), arena);
    boolean recompute = activationCheckpointing;
    BlockActivations[] acts = new BlockActivations[blocks.length];
    INDArray[] inputs = new INDArray[blocks.length]; // with checkpointing: all that is kept of each block
    INDArray h = arena.get("h", n, d);
    embed(h, batch.tokens());
    for (int i = 0; i < blocks.length; i++) {
      acts[i] = new BlockActivations(arena, recompute ? "recompute." : "l" + i + ".", "train.", b, t, t, d,
          config.intermediateSize(), config.numHeads(), config.numKvHeads(), config.headDim());
      if (recompute) {
        inputs[i] = arena.get("l" + i + ".input", n, d);
        inputs[i].assign(h);
      }
      acts[i].input.assign(h);
      try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(BLOCK_WORKSPACE, "peft-block")) {
        blocks[i].forward(h, acts[i].input, acts[i], p, null, arena, !recompute);
      }
    }
    INDArray rstd = arena.get("final.rstd", n);
    INDArray normed = arena.get("final.normed", n, d);
    RmsNorm.forward(normed, rstd, h, weights.finalNorm, config.rmsNormEps());
    INDArray dNormed = arena.get("final.dNormed", n, d);
    CrossEntropy.Sum sum;
    Profiler.start();
    try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(BLOCK_WORKSPACE, "peft-head")) {
      sum = head.lossAndGradient(normed, dNormed);
    }
    Profiler.mark("lm head + loss (fwd+bwd)");
    INDArray dh = arena.zeros("dh", n, d);
    RmsNorm.backward(dh, dNormed, h, rstd, weights.finalNorm);
    for (int i = blocks.length - 1; i >= 0; i--) {
      if (blockLoss != null && blockLoss.reads(i)) {
        // block i's output: the next block's input (kept apart with checkpointing), or the last residual stream
        INDArray output = i == blocks.length - 1 ? h : recompute ? inputs[i + 1] : acts[i + 1].input;
        blockLoss.addGradient(i, output, dh);
      }
      if (recompute) {
        // The block's forward again, from its kept input, refills the one shared set of activations.
        acts[i].input.assign(inputs[i]);
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(BLOCK_WORKSPACE, "peft-block")) {
          blocks[i].forward(arena.get("recompute.output", n, d), acts[i].input, acts[i], p, null, arena, true);
        }
      }
      try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(BLOCK_WORKSPACE, "peft-block")) {
        blocks[i].backward(dh, dh, acts[i], p, arena, recompute);
      }
    }
    return sum;
  }

  /** Summed cross-entropy of a batch's scored positions, and how many there are. */
  public CrossEntropy.Sum loss(PaddedBatch batch, Arena arena) {
    INDArray hidden = hiddenStates(batch.tokens(), batch.batchSize(), batch.seqLen(), batch.attentionMask(), null, arena);
    try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(BLOCK_WORKSPACE, "peft-head")) {
      return CrossEntropy.forward(hidden, batch.targets(), lossHead(), arena);
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

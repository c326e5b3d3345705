package io.peftplatform.training;

import io.peftplatform.llama.Evaluator;
import io.peftplatform.llama.LlamaModel;
import io.peftplatform.llama.nn.Arena;
import io.peftplatform.llama.nn.CrossEntropy;
import io.peftplatform.text.dataset.PaddedBatch;
import io.peftplatform.text.dataset.TokenizedExample;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Next-token cross-entropy on the labelled tokens, a step's loss the mean over its scored tokens. With
 * packing, a micro-batch's examples share rows ({@link PaddedBatch#packed}) without seeing each other, so
 * the loss and gradients are those of the unpacked batch with less padding computed.
 */
public final class SupervisedObjective implements StepObjective {
  private final LlamaModel model;
  private final List<TokenizedExample> train;
  private final List<TokenizedExample> validation;
  private final int padId;
  private final int packedRowLength;
  private final int batchSize;

  /**
   * @param packedRowLength pack micro-batches into rows of at most this many tokens; 0 for one example per row
   * @param batchSize validation batch size
   */
  public SupervisedObjective(LlamaModel model, List<TokenizedExample> train, List<TokenizedExample> validation, int padId,
      int packedRowLength, int batchSize) {
    if (train.isEmpty()) {
      throw new TrainingException("no training examples");
    }
    this.model = model;
    this.train = List.copyOf(train);
    this.validation = List.copyOf(validation);
    this.padId = padId;
    this.packedRowLength = packedRowLength;
    this.batchSize = batchSize;
  }

  @Override
  public int size() {
    return train.size();
  }

  @Override
  public MicroBatch batch(int[] order, int from, int to) {
    List<TokenizedExample> examples = new ArrayList<>(to - from);
    for (int i = from; i < to; i++) {
      examples.add(train.get(order[i]));
    }
    PaddedBatch b = packedRowLength > 0 ? PaddedBatch.packed(examples, packedRowLength, padId) : PaddedBatch.of(examples, padId);
    return new MicroBatch(b.predictedTokens(), b.realTokens(), b);
  }

  @Override
  public Sums forwardBackward(MicroBatch batch, double scale, Arena arena) {
    if (batch.normaliser() == 0) {
      return Sums.empty();
    }
    CrossEntropy.Sum loss = model.forwardBackward((PaddedBatch) batch.data(), scale, arena);
    return new Sums(Map.of("loss", loss.loss()), loss.tokens());
  }

  @Override
  public boolean hasValidation() {
    return !validation.isEmpty();
  }

  @Override
  public Map<String, Double> validate() {
    return Map.of("loss", Evaluator.evaluate(model, validation, batchSize, padId).loss());
  }
}

package io.peftplatform.merging.learned;

import io.peftplatform.llama.LlamaModel;
import io.peftplatform.llama.nn.Arena;
import io.peftplatform.text.dataset.PaddedBatch;
import io.peftplatform.text.dataset.TokenizedExample;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * What an expert computes on its own calibration texts, kept once so no step runs the expert again: per
 * text, the final-normed hidden states (the logits are these times the expert's head, made chunk by
 * chunk when needed) and the outputs of the aligned decoder layers. Memory: texts · tokens · D values
 * per kept layer, never the (tokens, V) logits.
 */
final class TeacherOutputs {
  private final List<INDArray> normed = new ArrayList<>(); // per text: (len, D)
  private final Map<Integer, List<INDArray>> layers = new HashMap<>(); // per aligned layer, per text: (len, D)
  private final INDArray head; // (V, D) the expert's LM head

  private TeacherOutputs(INDArray head, List<Integer> aligned) {
    this.head = head;
    aligned.forEach(l -> layers.put(l, new ArrayList<>()));
  }

  /** Runs {@code expert} over every text, {@code batchSize} at a time. */
  static TeacherOutputs compute(LlamaModel expert, INDArray head, List<TokenizedExample> texts, int padId, List<Integer> aligned,
      int batchSize) {
    TeacherOutputs out = new TeacherOutputs(head, aligned);
    Arena arena = new Arena(expert.dataType());
    try {
      for (int from = 0; from < texts.size(); from += batchSize) {
        List<TokenizedExample> slice = texts.subList(from, Math.min(texts.size(), from + batchSize));
        PaddedBatch b = PaddedBatch.of(slice, padId);
        INDArray hidden = expert.hiddenStates(b.tokens(), b.batchSize(), b.seqLen(), b.attentionMask(), null, arena, (layer, output) -> {
          if (out.layers.containsKey(layer)) {
            out.layers.get(layer).addAll(split(output, slice, b.seqLen()));
          }
        });
        out.normed.addAll(split(hidden, slice, b.seqLen()));
      }
    } finally {
      arena.release();
    }
    return out;
  }

  /** Each text's rows of a batch's (B·T, D) array, copied out of the arena and any workspace. */
  private static List<INDArray> split(INDArray rows, List<TokenizedExample> texts, int seqLen) {
    List<INDArray> out = new ArrayList<>(texts.size());
    try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
      for (int i = 0; i < texts.size(); i++) {
        long from = (long) i * seqLen;
        out.add(rows.get(NDArrayIndex.interval(from, from + texts.get(i).length()), NDArrayIndex.all()).dup('c'));
      }
    }
    return out;
  }

  INDArray head() {
    return head;
  }

  /** The final-normed hidden states of the given texts laid out as a batch of them is (B·T, D); padding rows 0. */
  INDArray normed(int[] texts, int seqLen, INDArray into) {
    return assemble(normed, texts, seqLen, into);
  }

  /** The output of an aligned layer for the given texts, laid out as their batch (B·T, D); padding rows 0. */
  INDArray layer(int layer, int[] texts, int seqLen, INDArray into) {
    return assemble(layers.get(layer), texts, seqLen, into);
  }

  private static INDArray assemble(List<INDArray> perText, int[] texts, int seqLen, INDArray into) {
    into.assign(0);
    for (int b = 0; b < texts.length; b++) {
      INDArray rows = perText.get(texts[b]);
      long from = (long) b * seqLen;
      into.get(NDArrayIndex.interval(from, from + rows.size(0)), NDArrayIndex.all()).assign(rows);
    }
    return into;
  }
}

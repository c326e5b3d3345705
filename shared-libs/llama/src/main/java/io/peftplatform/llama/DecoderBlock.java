package io.peftplatform.llama;

import io.peftplatform.llama.nn.Arena;
import io.peftplatform.llama.nn.Attention;
import io.peftplatform.llama.nn.BlockActivations;
import io.peftplatform.llama.nn.LinearLayer;
import io.peftplatform.llama.nn.Positions;
import io.peftplatform.llama.nn.RmsNorm;
import io.peftplatform.llama.nn.Rope;
import io.peftplatform.llama.nn.SwiGlu;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One pre-norm decoder layer: h = x + o_proj(attention(rope(q), rope(k), v)) on rms_norm(x), then
 * out = h + down_proj(silu(gate_proj(·)) ⊙ up_proj(·)) on rms_norm(h).
 */
public final class DecoderBlock {
  private final int index;
  private final LlamaConfig config;
  private final LayerWeights weights;
  public final LinearLayer qProj;
  public final LinearLayer kProj;
  public final LinearLayer vProj;
  public final LinearLayer oProj;
  public final LinearLayer gateProj;
  public final LinearLayer upProj;
  public final LinearLayer downProj;

  DecoderBlock(int index, LlamaConfig config, LayerWeights weights, LinearLayer[] linears) {
    this.index = index;
    this.config = config;
    this.weights = weights;
    this.qProj = linears[0];
    this.kProj = linears[1];
    this.vProj = linears[2];
    this.oProj = linears[3];
    this.gateProj = linears[4];
    this.upProj = linears[5];
    this.downProj = linears[6];
  }

  public int index() {
    return index;
  }

  /**
   * @param out (N, D) output residual stream; may be the same array as {@code in}
   * @param in (N, D) input residual stream
   * @param a this block's activation buffers
   * @param p row positions, RoPE tables and mask
   * @param cache key/value cache (batch 1) or null
   */
  void forward(INDArray out, INDArray in, BlockActivations a, Positions p, KvCache cache, Arena arena) {
    int b = p.batch();
    int tq = p.tq();
    int tk = p.tk();
    int heads = config.numHeads();
    int kvHeads = config.numKvHeads();
    int group = config.groupSize();
    int hd = config.headDim();
    long n = p.rows();

    RmsNorm.forward(a.attnNormOut, a.attnNormRstd, in, weights.inputNorm, config.rmsNormEps());
    qProj.forward(a.q, a.attnNormOut);
    kProj.forward(a.k, a.attnNormOut);
    vProj.forward(a.v, a.attnNormOut);
    Rope.apply(a.q, heads, p.cos(), p.sin(), arena);
    Rope.apply(a.k, kvHeads, p.cos(), p.sin(), arena);

    // (B, Tq, Hkv, G, hd) -> (B, Hkv, G, Tq, hd): the heads of one kv group stacked along rows
    a.qh.reshape('c', b, kvHeads, group, tq, hd).assign(a.q.reshape('c', b, tq, kvHeads, group, hd).permute(0, 2, 3, 1, 4));
    INDArray kh;
    INDArray vh;
    if (cache == null) {
      kh = arena.get("attn.kh", (long) b * kvHeads, tk, hd);
      vh = arena.get("attn.vh", (long) b * kvHeads, tk, hd);
      kh.reshape('c', b, kvHeads, tk, hd).assign(a.k.reshape('c', b, tq, kvHeads, hd).permute(0, 2, 1, 3));
      vh.reshape('c', b, kvHeads, tk, hd).assign(a.v.reshape('c', b, tq, kvHeads, hd).permute(0, 2, 1, 3));
    } else {
      cache.write(index, a.k, a.v, p.offset());
      kh = cache.keys(index, tk);
      vh = cache.values(index, tk);
    }
    Attention.forward(a.ctx, a.probs, a.qh, kh, vh, p.mask(), b, heads, 1.0 / Math.sqrt(hd));
    a.attnOut.reshape('c', b, tq, kvHeads, group, hd).assign(a.ctx.reshape('c', b, kvHeads, group, tq, hd).permute(0, 3, 1, 2, 4));

    INDArray projected = arena.get("blk.projected", n, config.hiddenSize());
    oProj.forward(projected, a.attnOut);
    in.add(projected, a.mid);

    RmsNorm.forward(a.mlpNormOut, a.mlpNormRstd, a.mid, weights.postAttentionNorm, config.rmsNormEps());
    gateProj.forward(a.gate, a.mlpNormOut);
    upProj.forward(a.up, a.mlpNormOut);
    SwiGlu.forward(a.act, a.gate, a.up);
    downProj.forward(projected, a.act);
    a.mid.add(projected, out);
  }
}

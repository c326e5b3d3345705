package io.peftplatform.adapters;

import io.peftplatform.llama.nn.Arena;
import io.peftplatform.llama.nn.FrozenLinear;
import io.peftplatform.llama.nn.Ops;
import org.nd4j.linalg.api.ndarray.INDArray;

/** LoRA: y = W·x + b + s·B·A·dropout(x). */
public final class LoraLinear extends AdapterLayer {
  private final INDArray a; // (r, in)
  private final INDArray b; // (out, r)

  LoraLinear(ModulePlan plan, FrozenLinear base, ParameterStore store, Arena arena, Dropout dropout) {
    super(plan, base, store, arena, dropout);
    this.a = param("lora_A");
    this.b = param("lora_B");
  }

  @Override
  protected void forwardAdapted(INDArray y, INDArray x) {
    base.forward(y, x);
    INDArray ax = arena.get(cache("ax"), x.size(0), plan.rank());
    LowRank.forward(y, ax, dropout.apply(x, arena), a, b, plan.scaling());
  }

  @Override
  public void backward(INDArray dx, INDArray dy, INDArray x) {
    base.backward(dx, dy, x);
    INDArray ax = arena.get(cache("ax"), x.size(0), plan.rank());
    LowRank.backward(grad("lora_A"), grad("lora_B"), dx, dy, dropout.apply(x, arena), ax, a, b, plan.scaling(), dropout, arena);
  }

  @Override
  public INDArray mergedWeight() {
    INDArray w = base.weight().dup();
    Ops.gemm(w, b, false, a, false, plan.scaling(), 1.0);
    return w;
  }
}

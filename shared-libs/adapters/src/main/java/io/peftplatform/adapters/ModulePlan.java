package io.peftplatform.adapters;

import io.peftplatform.training.spec.AdapterMethod;
import io.peftplatform.training.spec.AdapterSpec;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One adapted module: its path, sizes, rank and scaling, and (Kronecker) its factor shapes. New
 * adapters derive plans from an {@link AdapterSpec}; loaded ones from the tensors in the file.
 */
public record ModulePlan(String module, int in, int out, int rank, double scaling, Kronecker.Shape kron) {

  /** Trainable tensors of this module, by store name {@code <module>.<tensor>}, with shapes. */
  public Map<String, long[]> tensors(AdapterMethod method, int nolaBasesA, int nolaBasesB) {
    Map<String, long[]> t = new LinkedHashMap<>();
    switch (method) {
      case LORA, DORA -> {
        t.put(name("lora_A"), new long[] {rank, in});
        t.put(name("lora_B"), new long[] {out, rank});
        if (method == AdapterMethod.DORA) {
          t.put(name("lora_magnitude_vector"), new long[] {out});
        }
      }
      case NOLA -> {
        t.put(name("nola_alpha"), new long[] {nolaBasesA});
        t.put(name("nola_beta"), new long[] {nolaBasesB});
      }
      case KRONECKER -> {
        if (kron.fullW1()) {
          t.put(name("lokr_w1"), new long[] {kron.a(), kron.b()});
        } else {
          t.put(name("lokr_w1_a"), new long[] {kron.a(), rank});
          t.put(name("lokr_w1_b"), new long[] {rank, kron.b()});
        }
        if (kron.fullW2()) {
          t.put(name("lokr_w2"), new long[] {kron.c(), kron.d()});
        } else {
          t.put(name("lokr_w2_a"), new long[] {kron.c(), rank});
          t.put(name("lokr_w2_b"), new long[] {rank, kron.d()});
        }
      }
    }
    return t;
  }

  public String name(String tensor) {
    return module + "." + tensor;
  }
}

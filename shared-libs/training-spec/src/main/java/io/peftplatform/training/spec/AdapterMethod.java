package io.peftplatform.training.spec;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The four adapter methods. */
public enum AdapterMethod {
  /** Low-rank update ΔW = s·B·A (Hu et al. 2021); rsLoRA scales by alpha/√r. */
  LORA,
  /** LoRA plus a learned per-row magnitude (Liu et al. 2024). */
  DORA,
  /** LoRA factors as linear combinations of frozen random bases (Koohpayegani et al. 2024). */
  NOLA,
  /** ΔW = s·(W₁ ⊗ W₂), PEFT's LoKr (KronA, LyCORIS). */
  KRONECKER;

  public String cliName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static AdapterMethod parse(String name) {
    for (AdapterMethod m : values()) {
      if (m.cliName().equalsIgnoreCase(name) || (m == KRONECKER && name.equalsIgnoreCase("lokr"))) {
        return m;
      }
    }
    throw new IllegalArgumentException("method must be one of "
        + Arrays.stream(values()).map(AdapterMethod::cliName).collect(Collectors.joining(", ")) + ", got '" + name + "'");
  }
}

package io.peftplatform.serving;

/**
 * How much memory the server may keep models in: base models (their weights, fp32) and adapters (their
 * tensors) apart, each evicted least recently used first beyond its budget. The one in use always stays.
 */
public record ServingLimits(long modelBytes, long adapterBytes) {
  public ServingLimits {
    if (modelBytes < 0 || adapterBytes < 0) {
      throw new IllegalArgumentException("memory budgets must be >= 0");
    }
  }
}

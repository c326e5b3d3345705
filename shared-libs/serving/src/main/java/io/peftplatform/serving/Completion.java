package io.peftplatform.serving;

/**
 * What one generation produced.
 *
 * @param finishReason "stop" (an end-of-sequence token or a stop sequence) or "length" (the token budget
 *     or the model's context)
 * @param firstTokenNanos from the request's turn to its first token (loading included)
 * @param totalNanos from the request's turn to its end
 * @param loaded what had to be loaded for it: "none", "adapter" or "model"
 */
public record Completion(String text, int promptTokens, int completionTokens, String finishReason, long firstTokenNanos,
    long totalNanos, String loaded) {}

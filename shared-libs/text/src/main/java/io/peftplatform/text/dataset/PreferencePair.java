package io.peftplatform.text.dataset;

/**
 * A preference pair as tokens: the prompt followed by the preferred answer, and by the other one. Only
 * the answers are labelled, so a side's scored log-probability is that of its answer given the prompt.
 */
public record PreferencePair(TokenizedExample chosen, TokenizedExample rejected) {}

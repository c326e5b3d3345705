package io.peftplatform.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftplatform.llama.Evaluator;
import io.peftplatform.llama.Examples;
import io.peftplatform.llama.LlamaModel;
import io.peftplatform.llama.ModelDirectory;
import io.peftplatform.text.Tokenizer;
import io.peftplatform.text.dataset.TokenizedExample;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "eval",
    description = "Mean next-token cross-entropy of a model on a JSONL file. The last line of output is"
        + " {\"loss\": …, \"tokens\": …, \"perplexity\": …}.")
final class EvalCommand implements Callable<Integer> {
  @Mixin ModelOptions modelOptions;

  @Option(names = "--data", required = true, paramLabel = "FILE", description = "JSONL: text, prompt/completion or messages records.")
  Path data;

  @Option(names = "--seq-len", defaultValue = "1024", paramLabel = "N", description = "Cut examples to N tokens (default ${DEFAULT-VALUE}).")
  int seqLen;

  @Option(names = "--batch-size", defaultValue = "8", paramLabel = "N", description = "Examples per forward pass (default ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(names = "--score-inputs", description = "Score prompts and user turns too, not only completions and assistant turns.")
  boolean scoreInputs;

  @Override
  public Integer call() throws Exception {
    Options.requirePositive("--seq-len", seqLen);
    Options.requirePositive("--batch-size", batchSize);
    LlamaModel m = modelOptions.load();
    Evaluator.Result r;
    try (Tokenizer tokenizer = ModelDirectory.tokenizer(modelOptions.model)) {
      List<TokenizedExample> examples = Examples.load(data, tokenizer, m.config(), seqLen, scoreInputs);
      long start = System.nanoTime();
      r = Evaluator.evaluate(m, examples, batchSize, Examples.padTokenId(tokenizer, m.config()));
      System.err.printf("evaluated %d examples, %d scored tokens in %.1f s%n", examples.size(), r.tokens(), (System.nanoTime() - start) / 1e9);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("loss", r.loss());
    out.put("tokens", r.tokens());
    out.put("perplexity", r.perplexity());
    System.out.println(new ObjectMapper().writeValueAsString(out));
    return 0;
  }
}

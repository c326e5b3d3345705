package io.peftplatform.cli;

import io.peftplatform.llama.LlamaModel;
import io.peftplatform.llama.ModelDirectory;
import io.peftplatform.llama.generate.Generator;
import io.peftplatform.llama.generate.SamplingParams;
import io.peftplatform.text.ChatMessage;
import io.peftplatform.text.ChatTemplate;
import io.peftplatform.text.Tokenizer;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "generate", description = "Continue a prompt with the model, streaming the new text to standard output.")
final class GenerateCommand implements Callable<Integer> {
  @Mixin ModelOptions modelOptions;

  @Option(names = "--prompt", required = true, paramLabel = "TEXT", description = "The text to continue.")
  String prompt;

  @Option(names = "--chat", description = "Send the prompt as a user message through the model's chat template.")
  boolean chat;

  @Option(names = "--max-new-tokens", defaultValue = "64", paramLabel = "N", description = "Default ${DEFAULT-VALUE}.")
  int maxNewTokens;

  @Option(names = "--temperature", defaultValue = "0", paramLabel = "T", description = "0 for greedy decoding (default ${DEFAULT-VALUE}).")
  double temperature;

  @Option(names = "--top-p", defaultValue = "1.0", paramLabel = "P", description = "Nucleus sampling mass (default ${DEFAULT-VALUE}).")
  double topP;

  @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "Sampling seed (default ${DEFAULT-VALUE}).")
  long seed;

  @Override
  public Integer call() throws Exception {
    SamplingParams params = new SamplingParams(temperature, topP, seed, maxNewTokens);
    LlamaModel m = modelOptions.load();
    try (Tokenizer tokenizer = ModelDirectory.tokenizer(modelOptions.model)) {
      int[] input = chat
          ? tokenizer.encode(ChatTemplate.forTokenizer(tokenizer).render(List.of(new ChatMessage("user", prompt)), true), false)
          : tokenizer.encode(prompt, true);
      Set<Integer> stop = new HashSet<>(m.config().eosTokenIds());
      tokenizer.eosTokenId().ifPresent(stop::add);
      PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
      List<Integer> generated = new ArrayList<>();
      String[] shown = {""};
      long start = System.nanoTime();
      Generator.Result result = new Generator(m, stop).generate(input, params, token -> {
        if (stop.contains(token)) {
          return;
        }
        generated.add(token);
        String text = tokenizer.decode(generated.stream().mapToInt(Integer::intValue).toArray(), true);
        // Print only complete characters: a multi-byte character may span tokens.
        if (text.length() > shown[0].length() && !text.endsWith("\uFFFD")) {
          out.print(text.substring(shown[0].length()));
          shown[0] = text;
        }
      });
      out.println(tokenizer.decode(generated.stream().mapToInt(Integer::intValue).toArray(), true).substring(shown[0].length()));
      double seconds = (System.nanoTime() - start) / 1e9;
      System.err.printf("[%d prompt tokens, %d new tokens in %.2f s (%.1f tokens/s), finish: %s]%n",
          input.length, result.tokens().length, seconds, result.tokens().length / seconds, result.finishReason());
    }
    return 0;
  }
}

package io.peftplatform.cli.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftplatform.client.PeftClient;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "adapters", description = "Trained adapters: list, show (with lineage), download, try, delete.",
    subcommands = {AdaptersCommand.List.class, AdaptersCommand.Get.class, AdaptersCommand.Download.class, AdaptersCommand.Try.class,
        AdaptersCommand.Delete.class})
public final class AdaptersCommand {
  @Command(name = "list", description = "List adapters, newest first.")
  static final class List implements Callable<Integer> {
    @Mixin ApiOptions api;
    @Mixin Paging paging;

    @Override
    public Integer call() {
      return api.printPage(c -> c.listAdapters(paging.after, paging.limit), "id", "method", "model_id", "parameters", "metrics.train_loss", "job_id", "created_at");
    }
  }

  @Command(name = "get", description = "Show an adapter with its lineage: base model, dataset checksums, job, hyperparameters, metrics.")
  static final class Get implements Callable<Integer> {
    @Mixin ApiOptions api;

    @Parameters(paramLabel = "ID")
    String id;

    @Override
    public Integer call() {
      return api.printJson(c -> c.getAdapter(id));
    }
  }

  @Command(name = "download", description = "Download an adapter as a PEFT directory (loads in Hugging Face PEFT, vLLM, LoRAX, peft eval).")
  static final class Download implements Callable<Integer> {
    @Mixin ApiOptions api;

    @Parameters(paramLabel = "ID")
    String id;

    @Option(names = "--output", required = true, paramLabel = "DIR", description = "Where to write the files.")
    Path output;

    @Option(names = "--format", paramLabel = "F", description = "peft: what PEFT, vLLM and LoRAX load (NOLA as the LoRA it equals); default: as trained.")
    String format;

    @Override
    public Integer call() {
      try (PeftClient c = api.client()) {
        for (Path f : c.downloadAdapter(id, output, format)) {
          Output.out().println(f);
        }
        return 0;
      }
    }
  }

  @Command(name = "try", description = "Generate with an adapter (a fine-tuned model) on the platform's workers: /v1/completions, or /v1/chat/completions with --chat.")
  static final class Try implements Callable<Integer> {
    @Mixin ApiOptions api;

    @Parameters(paramLabel = "ID")
    String id;

    @Option(names = "--prompt", required = true)
    String prompt;

    @Option(names = {"--max-tokens", "--max-new-tokens"}, defaultValue = "64")
    int maxTokens;

    @Option(names = "--temperature", defaultValue = "0")
    double temperature;

    @Option(names = "--seed", defaultValue = "0")
    long seed;

    @Option(names = "--chat", description = "Send the prompt as a user message through the chat template.")
    boolean chat;

    @Override
    public Integer call() {
      try (PeftClient c = api.client()) {
        ObjectNode body = new ObjectMapper().createObjectNode().put("model", id)
            .put("max_tokens", maxTokens).put("temperature", temperature).put("seed", seed);
        if (chat) {
          body.putArray("messages").addObject().put("role", "user").put("content", prompt);
        } else {
          body.put("prompt", prompt);
        }
        JsonNode r = chat ? c.chatCompletion(body) : c.completion(body);
        if (api.json) {
          Output.json(r);
        } else {
          JsonNode choice = r.path("choices").path(0);
          Output.out().println(chat ? choice.path("message").path("content").asText() : choice.path("text").asText());
        }
        return 0;
      }
    }
  }

  @Command(name = "delete", description = "Delete an adapter and its files.")
  static final class Delete implements Callable<Integer> {
    @Mixin ApiOptions api;

    @Parameters(paramLabel = "ID")
    String id;

    @Override
    public Integer call() {
      try (PeftClient c = api.client()) {
        c.deleteAdapter(id);
        Output.out().println("deleted " + id);
        return 0;
      }
    }
  }
}

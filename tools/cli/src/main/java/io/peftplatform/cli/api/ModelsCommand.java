package io.peftplatform.cli.api;

import io.peftplatform.client.PeftClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "models", description = "Base models on the platform: upload, import, list, show, delete.",
    subcommands = {ModelsCommand.Upload.class, ModelsCommand.Import.class, ModelsCommand.List.class, ModelsCommand.Get.class,
        ModelsCommand.Delete.class})
public final class ModelsCommand {
  static final String[] COLUMNS = {"id", "status", "name", "parent", "architecture", "parameters", "created"};

  @Command(name = "upload", description = "Upload a Hugging Face model directory (config.json, *.safetensors, tokenizer.json, …).")
  static final class Upload implements Callable<Integer> {
    @Mixin ApiOptions api;

    @Parameters(paramLabel = "DIR", description = "The model directory.")
    Path dir;

    @Option(names = "--name", description = "A name to show (default: the directory's).")
    String name;

    @Override
    public Integer call() {
      if (!Files.isDirectory(dir)) {
        throw new IllegalArgumentException(dir + ": not a directory");
      }
      try (PeftClient c = api.client()) {
        var m = c.uploadModel(dir, name == null ? dir.toAbsolutePath().normalize().getFileName().toString() : name);
        print(api, m);
        return "failed".equals(m.path("status").asText()) ? 1 : 0;
      }
    }
  }

  @Command(name = "import", description = "Import a model from hf://org/name[@revision], an https:// archive or s3://bucket/prefix.")
  static final class Import implements Callable<Integer> {
    @Mixin ApiOptions api;

    @Parameters(paramLabel = "SOURCE")
    String source;

    @Option(names = "--name")
    String name;

    @Override
    public Integer call() {
      try (PeftClient c = api.client()) {
        print(api, c.importModel(source, name));
        return 0;
      }
    }
  }

  @Command(name = "list", description = "List models, newest first.")
  static final class List implements Callable<Integer> {
    @Mixin ApiOptions api;
    @Mixin Paging paging;

    @Override
    public Integer call() {
      return api.printPage(c -> c.listModels(paging.after, paging.limit), COLUMNS);
    }
  }

  @Command(name = "get", description = "Show a model.")
  static final class Get implements Callable<Integer> {
    @Mixin ApiOptions api;

    @Parameters(paramLabel = "ID")
    String id;

    @Override
    public Integer call() {
      return api.printJson(c -> c.getModel(id));
    }
  }

  @Command(name = "delete", description = "Delete a model and its files.")
  static final class Delete implements Callable<Integer> {
    @Mixin ApiOptions api;

    @Parameters(paramLabel = "ID")
    String id;

    @Override
    public Integer call() {
      try (PeftClient c = api.client()) {
        c.deleteModel(id);
        Output.out().println("deleted " + id);
        return 0;
      }
    }
  }

  private static void print(ApiOptions api, com.fasterxml.jackson.databind.JsonNode m) {
    if (api.json) {
      Output.json(m);
    } else {
      Output.out().println(m.path("id").asText() + "  " + m.path("status").asText() + "  " + Output.cell(m, "architecture") + "  "
          + Output.cell(m, "parameters") + " parameters" + (m.hasNonNull("error") ? "  " + m.get("error") : ""));
    }
  }
}

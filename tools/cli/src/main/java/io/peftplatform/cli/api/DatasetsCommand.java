package io.peftplatform.cli.api;

import io.peftplatform.client.PeftClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "datasets", description = "Training and validation files (JSONL): upload, list, show, delete.",
    subcommands = {DatasetsCommand.Upload.class, DatasetsCommand.List.class, DatasetsCommand.Get.class, DatasetsCommand.Delete.class})
public final class DatasetsCommand {
  @Command(name = "upload", description = "Upload a JSONL file; every line is checked and bad ones are reported by number.")
  static final class Upload implements Callable<Integer> {
    @Mixin ApiOptions api;

    @Parameters(paramLabel = "FILE")
    Path file;

    @Option(names = "--name", description = "A name to show (default: the file's).")
    String name;

    @Override
    public Integer call() {
      if (!Files.isRegularFile(file)) {
        throw new IllegalArgumentException(file + ": no such file");
      }
      try (PeftClient c = api.client()) {
        var d = c.uploadDataset(file, name == null ? file.getFileName().toString() : name);
        if (api.json) {
          Output.json(d);
        } else {
          Output.out().println(d.path("id").asText() + "  " + d.path("format").asText() + "  " + d.path("rows").asText() + " rows, ~"
              + d.path("token_estimate").asText() + " tokens");
        }
        return 0;
      }
    }
  }

  @Command(name = "list", description = "List datasets, newest first.")
  static final class List implements Callable<Integer> {
    @Mixin ApiOptions api;
    @Mixin Paging paging;

    @Override
    public Integer call() {
      return api.printPage(c -> c.listDatasets(paging.after, paging.limit), "id", "format", "rows", "bytes", "filename", "created_at");
    }
  }

  @Command(name = "get", description = "Show a dataset, with a preview of its first records.")
  static final class Get implements Callable<Integer> {
    @Mixin ApiOptions api;

    @Parameters(paramLabel = "ID")
    String id;

    @Override
    public Integer call() {
      return api.printJson(c -> c.getDataset(id));
    }
  }

  @Command(name = "delete", description = "Delete a dataset.")
  static final class Delete implements Callable<Integer> {
    @Mixin ApiOptions api;

    @Parameters(paramLabel = "ID")
    String id;

    @Override
    public Integer call() {
      try (PeftClient c = api.client()) {
        c.deleteDataset(id);
        Output.out().println("deleted " + id);
        return 0;
      }
    }
  }
}

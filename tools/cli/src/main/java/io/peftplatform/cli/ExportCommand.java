package io.peftplatform.cli;

import io.peftplatform.adapters.Adapter;
import io.peftplatform.adapters.AdapterFiles;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.ModelDirectory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.buffer.DataType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "export", description = "Write an adapter in a format other tools load: PEFT (NOLA becomes a plain LoRA with the same update).")
final class ExportCommand implements Callable<Integer> {
  @Option(names = "--adapter", required = true, paramLabel = "DIR", description = "The adapter directory.")
  Path adapter;

  @Option(names = "--format", defaultValue = "peft", paramLabel = "F", description = "peft (the only format so far; default).")
  String format;

  @Option(names = "--output", required = true, paramLabel = "DIR", description = "Directory to write.")
  Path output;

  @Option(names = "--model", paramLabel = "DIR", description = "The base model (default: the adapter's base_model_name_or_path).")
  Path model;

  @Override
  public Integer call() throws Exception {
    if (!format.equals("peft")) {
      throw new IllegalArgumentException("--format must be peft, got '" + format + "'");
    }
    Path base = model != null ? model : baseOf(adapter);
    LlamaConfig config = ModelDirectory.config(base);
    Adapter a = AdapterFiles.read(adapter, config, DataType.FLOAT);
    if (Files.exists(output.resolve(AdapterFiles.CONFIG))) {
      throw new IllegalArgumentException(output + " already holds an adapter");
    }
    AdapterFiles.exportPeft(a, output, base.toString());
    System.out.printf("wrote %s: a PEFT %s adapter of %d modules (from %s)%n", output,
        a.spec().method().name().equals("NOLA") ? "LORA" : a.spec().method().name(), a.plans().size(), a.spec().method().cliName());
    return 0;
  }

  static Path baseOf(Path adapterDir) throws java.io.IOException {
    var config = new com.fasterxml.jackson.databind.ObjectMapper().readTree(adapterDir.resolve(AdapterFiles.CONFIG).toFile());
    String base = config.path("base_model_name_or_path").asText("");
    if (base.isEmpty() || !Files.isDirectory(Path.of(base))) {
      throw new IllegalArgumentException("the adapter's base_model_name_or_path '" + base + "' is not a directory here; pass --model DIR");
    }
    return Path.of(base);
  }
}

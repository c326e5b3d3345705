package io.peftplatform.cli;

import io.peftplatform.adapters.AdaptedModel;
import io.peftplatform.llama.LlamaModel;
import java.nio.file.Path;
import org.nd4j.linalg.api.buffer.DataType;
import picocli.CommandLine.Option;

/** --model and --adapter, shared by the commands that run a model. */
final class ModelOptions {
  @Option(names = "--model", required = true, paramLabel = "DIR", description = "Hugging Face model directory.")
  Path model;

  @Option(names = "--adapter", paramLabel = "DIR", description = "An adapter directory (PEFT LoRA/DoRA/LoKr, or NOLA) to apply.")
  Path adapter;

  LlamaModel load() {
    return AdaptedModel.load(model, adapter, DataType.FLOAT);
  }
}

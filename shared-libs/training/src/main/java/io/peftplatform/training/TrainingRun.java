package io.peftplatform.training;

import io.peftplatform.adapters.AdaptedModel;
import io.peftplatform.adapters.Adapter;
import io.peftplatform.llama.Examples;
import io.peftplatform.llama.LlamaModel;
import io.peftplatform.llama.LlamaWeights;
import io.peftplatform.llama.ModelDirectory;
import io.peftplatform.llama.config.LlamaConfig;
import io.peftplatform.llama.config.ModelException;
import io.peftplatform.text.TextException;
import io.peftplatform.text.Tokenizer;
import io.peftplatform.text.dataset.DatasetException;
import io.peftplatform.text.dataset.ExampleEncoder;
import io.peftplatform.text.dataset.JsonlReader;
import io.peftplatform.text.dataset.PreferencePair;
import io.peftplatform.text.dataset.TokenizedExample;
import io.peftplatform.text.dataset.TrainingRecord;
import io.peftplatform.training.spec.RunSpec;
import io.peftplatform.training.spec.TrainingConfig;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * A run put together from its spec and files — the one assembly the CLI and the training worker share:
 * the model's config and tokenizer, the data read and encoded as the objective needs (examples, or
 * preference pairs), the adapter created and attached to the base weights, the objective and the
 * {@link Trainer}. Every refusal is a {@link RunInputException} naming the input at fault.
 */
public final class TrainingRun {
  /**
   * A JSONL file of the run.
   *
   * @param name how messages name it: {@code training_file}, {@code --data}, a path …
   * @param recordedName what provenance records it as (a dataset id, a path)
   */
  public record DataFile(String name, Path path, String recordedName) {}

  private final RunSpec spec;
  private final Path modelDir;
  private final String modelName;
  private final DataFile training;
  private final DataFile validation;
  private final int trainingExamples;
  private final int validationExamples;
  private final Adapter adapter;
  private final LlamaModel model;
  private final Trainer trainer;

  private TrainingRun(RunSpec spec, Path modelDir, String modelName, DataFile training, DataFile validation, int trainingExamples,
      int validationExamples, Adapter adapter, LlamaModel model, Trainer trainer) {
    this.spec = spec;
    this.modelDir = modelDir;
    this.modelName = modelName;
    this.training = training;
    this.validation = validation;
    this.trainingExamples = trainingExamples;
    this.validationExamples = validationExamples;
    this.adapter = adapter;
    this.model = model;
    this.trainer = trainer;
  }

  /**
   * @param modelName recorded as the adapter's base_model_name_or_path and in provenance
   * @param validation null for none
   * @param output where the adapter, its checkpoints and provenance go
   */
  public static TrainingRun prepare(RunSpec spec, Path modelDir, String modelName, DataFile training, DataFile validation,
      Path output) {
    LlamaConfig config;
    try {
      config = ModelDirectory.config(modelDir);
    } catch (ModelException e) {
      throw new RunInputException(RunInputException.MODEL, e.getMessage());
    }
    List<JsonlReader.Line> trainRecords = records(training);
    List<JsonlReader.Line> validRecords = validation == null ? List.of() : records(validation);
    int padId;
    StepObjectiveFactory data;
    try (Tokenizer tokenizer = ModelDirectory.tokenizer(modelDir)) {
      ExampleEncoder encoder = Examples.encoder(tokenizer, config, spec.data().maxSeqLen(), spec.data().trainOnInputs());
      padId = Examples.padTokenId(tokenizer, config);
      if (spec.objective().pairwise()) {
        List<PreferencePair> train = pairs(training, trainRecords, encoder);
        List<PreferencePair> valid = validation == null ? List.of() : pairs(validation, validRecords, encoder);
        data = (model, adapter) -> new PreferenceObjective(model, adapter, train, valid, padId, spec.objective(), spec.training().batchSize());
      } else {
        List<TokenizedExample> train = examples(training, trainRecords, encoder);
        List<TokenizedExample> valid = validation == null ? List.of() : examples(validation, validRecords, encoder);
        int rowLength = spec.data().packing() ? Math.min(spec.data().maxSeqLen(), config.maxPositionEmbeddings()) : 0;
        data = (model, adapter) -> new SupervisedObjective(model, train, valid, padId, rowLength, spec.training().batchSize());
      }
    } catch (ModelException e) {
      throw new RunInputException(RunInputException.MODEL, e.getMessage());
    }
    Adapter adapter;
    LlamaModel model;
    try {
      adapter = Adapter.create(spec.adapter(), config, DataType.FLOAT);
      // A BF16 checkpoint's projections stay BF16 in memory: half the weight memory, the same fp32 products.
      LlamaWeights weights = AdaptedModel.weights(modelDir, config, DataType.FLOAT, true);
      boolean bf16 = spec.training().precision() == TrainingConfig.Precision.BF16;
      // BF16 products: any checkpoint's projections rounded to BF16 and multiplied so.
      model = adapter.attach(bf16 ? weights.withBf16Projections() : weights).bf16Products(bf16);
    } catch (IllegalArgumentException e) {
      throw new RunInputException(RunInputException.SPEC, e.getMessage()); // e.g. target modules the model lacks
    } catch (ModelException e) {
      throw new RunInputException(RunInputException.MODEL, e.getMessage());
    }
    StepObjective objective = data.create(model, adapter);
    Trainer trainer = new Trainer(adapter, spec, objective, output, modelName);
    return new TrainingRun(spec, modelDir, modelName, training, validation, trainRecords.size(), validRecords.size(), adapter,
        model, trainer);
  }

  private interface StepObjectiveFactory {
    StepObjective create(LlamaModel model, Adapter adapter);
  }

  public RunSpec spec() {
    return spec;
  }

  public Adapter adapter() {
    return adapter;
  }

  public Trainer trainer() {
    return trainer;
  }

  /** See {@link LlamaModel#activationCheckpointing(boolean)}: memory for time, the same numbers. */
  public TrainingRun activationCheckpointing(boolean on) {
    model.activationCheckpointing(on);
    return this;
  }

  /** Training examples (pairs for DPO). */
  public int trainingExamples() {
    return trainingExamples;
  }

  public int validationExamples() {
    return validationExamples;
  }

  /**
   * Trains (continuing from {@code resumeFrom} when given) and writes the provenance beside the adapter.
   *
   * @param baseModelId the model's id for provenance, null for a local directory
   */
  public TrainingResult run(ProgressListener listener, CancellationToken cancellation, Path resumeFrom, String baseModelId) {
    TrainingResult result = trainer.listener(listener).cancellation(cancellation).run(resumeFrom);
    if (result.stopReason().equals("paused") || result.stopReason().equals("cancelled")) {
      return result;
    }
    List<Path> files = new ArrayList<>(List.of(training.path()));
    List<String> names = new ArrayList<>(List.of(training.recordedName()));
    List<Integer> counts = new ArrayList<>(List.of(trainingExamples));
    if (validation != null) {
      files.add(validation.path());
      names.add(validation.recordedName());
      counts.add(validationExamples);
    }
    Provenance.write(result.adapterDirectory(), new Provenance.Inputs(modelDir, baseModelId == null ? modelName : baseModelId, files,
        names, counts), trainer.describe(), result, trainer.history());
    return result;
  }

  private static List<JsonlReader.Line> records(DataFile file) {
    try (Reader reader = Files.newBufferedReader(file.path(), StandardCharsets.UTF_8)) {
      return JsonlReader.readLines(reader, file.name());
    } catch (DatasetException e) {
      throw new RunInputException(file.name(), file.name() + " line " + e.line() + ": "
          + (e.field() == null ? "" : "field '" + e.field() + "': ") + e.problem());
    } catch (TextException e) {
      throw new RunInputException(file.name(), e.getMessage());
    } catch (NoSuchFileException e) {
      throw new RunInputException(file.name(), file.name() + ": no such file");
    } catch (IOException e) {
      throw new UncheckedIOException(file.name() + ": cannot read: " + e.getMessage(), e);
    }
  }

  private static List<TokenizedExample> examples(DataFile file, List<JsonlReader.Line> records, ExampleEncoder encoder) {
    TrainingRecord first = records.get(0).record();
    if (first.isPreference()) {
      throw new RunInputException(file.name(), file.name() + " holds preference pairs (" + first.form()
          + "): train on them with a preference objective (dpo, simpo or orpo), or give supervised records");
    }
    List<TokenizedExample> out = new ArrayList<>(records.size());
    long scored = 0;
    for (JsonlReader.Line line : records) {
      TokenizedExample e = encode(file, line, () -> encoder.encode(line.record()));
      scored += e.predictedTokens();
      out.add(e);
    }
    if (scored == 0) {
      throw new RunInputException(file.name(), file.name()
          + " has no tokens to train on (are completions empty, or cut off by max_seq_len?)");
    }
    return out;
  }

  private static List<PreferencePair> pairs(DataFile file, List<JsonlReader.Line> records, ExampleEncoder encoder) {
    TrainingRecord first = records.get(0).record();
    if (!first.isPreference()) {
      throw new RunInputException(file.name(), file.name() + " holds " + first.form() + " records, not preference pairs:"
          + " preference tuning needs {\"input\", \"preferred_output\", \"non_preferred_output\"} or {\"prompt\", \"chosen\", \"rejected\"}");
    }
    List<PreferencePair> out = new ArrayList<>(records.size());
    for (JsonlReader.Line line : records) {
      PreferencePair p = encode(file, line, () -> encoder.encodePair((TrainingRecord.Preference) line.record()));
      if (p.chosen().predictedTokens() == 0 || p.rejected().predictedTokens() == 0) {
        throw new RunInputException(file.name(), file.name() + " line " + line.number() + ": an answer has no tokens left within"
            + " max_seq_len (the prompt fills it); raise max_seq_len or shorten the prompt");
      }
      out.add(p);
    }
    return out;
  }

  private static <T> T encode(DataFile file, JsonlReader.Line line, Supplier<T> encoding) {
    try {
      return encoding.get();
    } catch (TextException | ModelException e) {
      throw new RunInputException(file.name(), file.name() + " line " + line.number() + ": " + e.getMessage());
    }
  }
}

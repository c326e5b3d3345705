package io.peftplatform.cli.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftplatform.client.PeftClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "jobs", description = "Fine-tuning jobs: create, list, show, cancel, follow their events.",
    subcommands = {JobsCommand.Create.class, JobsCommand.List.class, JobsCommand.Get.class, JobsCommand.Cancel.class, JobsCommand.Pause.class, JobsCommand.Resume.class,
        JobsCommand.Events.class, JobsCommand.Checkpoints.class})
public final class JobsCommand {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration FOLLOW_LIMIT = Duration.ofDays(7);

  @Command(name = "create", description = "Create a fine-tuning job. Options left out take the API's defaults;"
      + " --request sends a whole request body instead.")
  static final class Create implements Callable<Integer> {
    @Mixin ApiOptions api;

    @Option(names = "--request", paramLabel = "FILE", description = "A JSON request body (the other options are then not allowed).")
    Path request;

    @Option(names = "--model", paramLabel = "ID", description = "The base model's id.")
    String model;

    @Option(names = "--training-file", paramLabel = "ID", description = "The training dataset's id.")
    String trainingFile;

    @Option(names = "--validation-file", paramLabel = "ID")
    String validationFile;

    @Option(names = "--adapter", paramLabel = "TYPE", description = "The adapter to train: lora, dora, nola or kronecker (default lora).")
    String adapter;

    @Option(names = "--rank", paramLabel = "R")
    Integer rank;

    @Option(names = "--alpha")
    Double alpha;

    @Option(names = "--dropout")
    Double dropout;

    @Option(names = "--target-modules", split = ",", paramLabel = "NAMES", description = "e.g. q_proj,v_proj, or all-linear.")
    java.util.List<String> targetModules;

    @Option(names = "--use-rslora", description = "LoRA and DoRA: scale by alpha/sqrt(rank).")
    Boolean useRslora;

    @Option(names = "--num-bases", paramLabel = "K", description = "NOLA: random bases per factor.")
    Integer numBases;

    @Option(names = "--factor", paramLabel = "F", description = "Kronecker: the small factor's size (-1: near the square root).")
    Integer factor;

    @Option(names = "--epochs")
    Integer epochs;

    @Option(names = "--max-steps")
    Integer maxSteps;

    @Option(names = "--learning-rate", paramLabel = "LR")
    Double learningRate;

    @Option(names = "--batch-size")
    Integer batchSize;

    @Option(names = "--gradient-accumulation-steps")
    Integer gradAccum;

    @Option(names = "--warmup-steps")
    Integer warmupSteps;

    @Option(names = "--lr-scheduler", description = "linear, cosine or constant.")
    String scheduler;

    @Option(names = "--max-seq-len")
    Integer maxSeqLen;

    @Option(names = "--weight-decay")
    Double weightDecay;

    @Option(names = "--checkpoint-every", paramLabel = "STEPS")
    Integer checkpointEvery;

    @Option(names = "--eval-every", paramLabel = "STEPS")
    Integer evalEvery;

    @Option(names = "--train-on-inputs")
    Boolean trainOnInputs;

    @Option(names = "--objective", paramLabel = "O",
        description = "supervised (default), or dpo, simpo or orpo: preference pairs in the training file.")
    String objective;

    @Option(names = "--beta", description = "DPO's beta (default 0.1), SimPO's beta (2.0) or ORPO's lambda (0.1).")
    Double beta;

    @Option(names = "--gamma", description = "SimPO's target reward margin (default 0.5).")
    Double gamma;

    @Option(names = "--packing", description = "Supervised: several examples to a row (less padding, the same loss).")
    Boolean packing;

    @Option(names = "--precision", paramLabel = "fp32|bf16", description = "What the frozen projections multiply in (default fp32).")
    String precision;

    @Option(names = "--seed")
    Long seed;

    @Option(names = "--suffix")
    String suffix;

    @Option(names = "--follow", description = "Then print the job's events until it ends; exit 0 only if it succeeds.")
    boolean follow;

    @Override
    public Integer call() throws IOException {
      JsonNode body = request != null ? fromFile() : fromOptions();
      try (PeftClient c = api.client()) {
        JsonNode job = c.createJob(body);
        if (api.json && !follow) {
          Output.json(job);
          return 0;
        }
        Output.out().println(job.path("id").asText() + "  " + job.path("status").asText());
        return follow ? JobsCommand.follow(c, job.path("id").asText(), api.json) : 0;
      }
    }

    private JsonNode fromFile() throws IOException {
      if (model != null || trainingFile != null || adapter != null) {
        throw new IllegalArgumentException("--request replaces --model, --training-file and the other job options; use one or the other");
      }
      return JSON.readTree(Files.readString(request));
    }

    private JsonNode fromOptions() {
      if (model == null || trainingFile == null) {
        throw new IllegalArgumentException("--model and --training-file are required (or --request FILE)");
      }
      ObjectNode body = JSON.createObjectNode().put("model", model).put("training_file", trainingFile);
      if (validationFile != null) {
        body.put("validation_file", validationFile);
      }
      ObjectNode p = body.putObject("adapter").put("type", adapter == null ? "lora" : adapter);
      putIf(p, "rank", rank);
      putIf(p, "alpha", alpha);
      putIf(p, "dropout", dropout);
      if (targetModules != null) {
        p.set("target_modules", JSON.valueToTree(targetModules.size() == 1 ? targetModules.get(0) : targetModules));
      }
      putIf(p, "use_rslora", useRslora);
      putIf(p, "num_bases", numBases);
      putIf(p, "factor", factor);
      String type = objective == null ? "supervised" : objective;
      ObjectNode h = body.putObject("method").put("type", type).putObject(type).putObject("hyperparameters");
      putIf(h, "beta", beta);
      putIf(h, "gamma", gamma);
      putIf(h, "packing", packing);
      putIf(h, "n_epochs", epochs);
      putIf(h, "max_steps", maxSteps);
      putIf(h, "learning_rate", learningRate);
      putIf(h, "batch_size", batchSize);
      putIf(h, "gradient_accumulation_steps", gradAccum);
      putIf(h, "warmup_steps", warmupSteps);
      putIf(h, "lr_scheduler", scheduler);
      putIf(h, "max_seq_len", maxSeqLen);
      putIf(h, "weight_decay", weightDecay);
      putIf(h, "checkpoint_every", checkpointEvery);
      putIf(h, "eval_every", evalEvery);
      putIf(h, "train_on_inputs", trainOnInputs);
      putIf(h, "precision", precision);
      putIf(body, "seed", seed);
      putIf(body, "suffix", suffix);
      return body;
    }

    private static void putIf(ObjectNode node, String field, Object value) {
      if (value != null) {
        node.set(field, JSON.valueToTree(value));
      }
    }
  }

  /** Prints events as they come; returns 0 if the job succeeded, 1 otherwise. */
  static int follow(PeftClient c, String id, boolean json) {
    JsonNode end = c.followJob(id, e -> {
      if (json) {
        Output.out().println(e.toString());
      } else {
        Output.out().println(Output.event(e));
      }
    }, FOLLOW_LIMIT);
    String status = end.path("status").asText();
    if (!json) {
      String detail = switch (status) {
        case "succeeded" -> "adapter " + end.path("fine_tuned_model").asText();
        case "failed" -> end.path("error").path("code").asText() + ": " + end.path("error").path("message").asText();
        default -> "";
      };
      Output.out().println(id + "  " + status + (detail.isEmpty() ? "" : "  " + detail));
    }
    return "succeeded".equals(status) ? 0 : 1;
  }

  @Command(name = "list", description = "List jobs, newest first.")
  static final class List implements Callable<Integer> {
    @Mixin ApiOptions api;
    @Mixin Paging paging;

    @Option(names = "--status", description = "Only jobs with this status.")
    String status;

    @Override
    public Integer call() {
      return api.printPage(c -> c.listJobs(status, paging.after, paging.limit), "id", "status", "adapter.type", "model", "trained_steps", "total_steps", "fine_tuned_model", "created_at");
    }
  }

  @Command(name = "get", description = "Show a job.")
  static final class Get implements Callable<Integer> {
    @Mixin ApiOptions api;

    @Parameters(paramLabel = "ID")
    String id;

    @Override
    public Integer call() {
      return api.printJson(c -> c.getJob(id));
    }
  }

  /** Asks something of a job (cancel, pause, resume) and prints its id and status, and a note. */
  static int act(ApiOptions api, String id, java.util.function.Function<PeftClient, JsonNode> request,
      java.util.function.Function<JsonNode, String> note) {
    try (PeftClient c = api.client()) {
      JsonNode job = request.apply(c);
      if (api.json) {
        Output.json(job);
      } else {
        Output.out().println(id + "  " + job.path("status").asText() + note.apply(job));
      }
      return 0;
    }
  }

  @Command(name = "cancel", description = "Cancel a job; a running one stops after its current step.")
  static final class Cancel implements Callable<Integer> {
    @Mixin ApiOptions api;

    @Parameters(paramLabel = "ID")
    String id;

    @Override
    public Integer call() {
      return act(api, id, c -> c.cancelJob(id), job -> (job.path("cancel_requested").asBoolean() ? "  (cancel requested)" : ""));
    }
  }


  @Command(name = "pause", description = "Pause a running job: its worker saves a checkpoint after the current step and stops.")
  static final class Pause implements Callable<Integer> {
    @Mixin ApiOptions api;

    @Parameters(paramLabel = "ID")
    String id;

    @Override
    public Integer call() {
      return act(api, id, c -> c.pauseJob(id), job -> (job.path("status").asText().equals("paused") ? "" : "  (pause requested)"));
    }
  }


  @Command(name = "resume", description = "Resume a paused job from the checkpoint it paused at.")
  static final class Resume implements Callable<Integer> {
    @Mixin ApiOptions api;

    @Parameters(paramLabel = "ID")
    String id;

    @Override
    public Integer call() {
      return act(api, id, c -> c.resumeJob(id), job -> "");
    }
  }


  @Command(name = "events", description = "Print a job's events; --follow keeps printing until the job ends.")
  static final class Events implements Callable<Integer> {
    @Mixin ApiOptions api;

    @Parameters(paramLabel = "ID")
    String id;

    @Option(names = {"-f", "--follow"}, description = "Stream new events until the job ends; exit 0 only if it succeeds.")
    boolean follow;

    @Override
    public Integer call() {
      try (PeftClient c = api.client()) {
        if (follow) {
          return JobsCommand.follow(c, id, api.json);
        }
        for (JsonNode e : PeftClient.all(after -> c.jobEvents(id, after, 100))) {
          Output.out().println(api.json ? e.toString() : Output.event(e));
        }
        return 0;
      }
    }
  }

  @Command(name = "checkpoints", description = "List a job's checkpoints.")
  static final class Checkpoints implements Callable<Integer> {
    @Mixin ApiOptions api;

    @Parameters(paramLabel = "ID")
    String id;

    @Override
    public Integer call() {
      return api.printPage(c -> c.jobCheckpoints(id), "id", "step_number", "metrics.valid_loss", "created_at");
    }
  }
}

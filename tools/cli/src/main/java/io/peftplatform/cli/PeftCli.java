package io.peftplatform.cli;

import io.peftplatform.llama.nn.NativeBuild;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code peft}: the command line of PEFT Platform. */
@Command(
    name = "peft",
    mixinStandardHelpOptions = true,
    scope = CommandLine.ScopeType.INHERIT, // --help and --version on every subcommand, as the error messages promise
    version = "peft 0.1.0",
    description = "Parameter-efficient fine-tuning of Llama-family models on the JVM.",
    subcommands = {
      InitModelCommand.class,
      InspectCommand.class,
      EvalCommand.class,
      GenerateCommand.class,
      TrainCommand.class,
      ExportCommand.class,
      MergeCommand.class,
      BenchCommand.class,
      io.peftplatform.cli.api.ModelsCommand.class,
      io.peftplatform.cli.api.DatasetsCommand.class,
      io.peftplatform.cli.api.MergesCommand.class,
      io.peftplatform.cli.api.JobsCommand.class,
      io.peftplatform.cli.api.AdaptersCommand.class,
      io.peftplatform.cli.api.KeysCommand.class,
      CommandLine.HelpCommand.class
    })
public final class PeftCli implements Runnable {
  @Option(names = "--verbose", description = "Print stack traces of errors.", scope = CommandLine.ScopeType.INHERIT)
  boolean verbose;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getErr());
  }

  public static void main(String[] args) {
    NativeBuild.select(); // before anything loads ND4J
    System.exit(execute(args));
  }

  /** Runs a command line and returns its exit code: 0 success, 1 failure, 2 bad usage. */
  public static int execute(String... args) {
    CommandLine cli = new CommandLine(new PeftCli());
    cli.setParameterExceptionHandler((ex, a) -> {
      PrintWriter err = ex.getCommandLine().getErr();
      String command = ex.getCommandLine().getCommandSpec().qualifiedName(); // "peft", "peft eval", "peft merges create"
      err.println(command + ": " + ex.getMessage() + " (see " + command + " --help)");
      return 2;
    });
    cli.setExecutionExceptionHandler((ex, c, parseResult) -> {
      boolean verbose = parseResult.hasMatchedOption("--verbose")
          || parseResult.subcommands().stream().anyMatch(p -> p.hasMatchedOption("--verbose"));
      if (verbose) {
        ex.printStackTrace(c.getErr());
      }
      c.getErr().println("peft: error: " + Errors.describe(ex));
      c.getErr().flush();
      return 1;
    });
    return cli.execute(args);
  }
}

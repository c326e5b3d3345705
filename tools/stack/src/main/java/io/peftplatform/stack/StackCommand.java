package io.peftplatform.stack;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code peft up}: the whole platform on this machine until Ctrl-C. */
@Command(name = "peft up", mixinStandardHelpOptions = true,
    description = "Start Kafka, S3 and PostgreSQL (embedded unless the environment names external ones) and every"
        + " service; print the API's address and, on first start, the admin key. Ctrl-C stops everything; data stays.",
    footer = {"", "External backends: PEFT_KAFKA_BOOTSTRAP; PEFT_S3_ENDPOINT, PEFT_S3_ACCESS_KEY, PEFT_S3_SECRET_KEY,"
        + " PEFT_S3_BUCKET; PEFT_JOBS_DB_URL and PEFT_ARTIFACTS_DB_URL with PEFT_DB_USER, PEFT_DB_PASSWORD."})
public final class StackCommand implements Callable<Integer> {
  @Option(names = "--port", defaultValue = "${env:PEFT_PORT:-8080}", description = "The API's port (default ${DEFAULT-VALUE}; env PEFT_PORT).")
  int port;

  @Option(names = "--workers", defaultValue = "1", description = "Training workers to start (default ${DEFAULT-VALUE}).")
  int workers;

  @Option(names = "--data-dir", paramLabel = "DIR", description = "Where the stack keeps its data (default: .peft in the repository).")
  Path dataDir;

  @Option(names = "--no-demo", description = "Do not register the demo model and dataset on first start.")
  boolean noDemo;

  @Override
  public Integer call() throws InterruptedException {
    if (port < 0 || port > 65535) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--port must be from 0 to 65535, got " + port);
    }
    if (workers < 0 || workers > 64) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--workers must be from 0 to 64, got " + workers);
    }
    Path home = Path.of(System.getProperty("peft.home", ".")).toAbsolutePath().normalize();
    Path data = (dataDir == null ? home.resolve(".peft") : dataDir).toAbsolutePath().normalize();
    Stack stack = Stack.start(new Stack.Options(home, data, port, workers, !noDemo, System.getenv(),
        line -> System.out.println("peft up: " + line)));
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      System.out.println("\npeft up: stopping…");
      stack.close();
      stopped.countDown();
    }, "peft-up-stop"));
    printBanner(stack, home);
    stopped.await();
    return 0;
  }

  private static void printBanner(Stack stack, Path home) {
    String url = stack.url();
    String data = home.relativize(stack.dataDir()).toString().isEmpty() ? stack.dataDir().toString()
        : stack.dataDir().startsWith(home) ? home.relativize(stack.dataDir()).toString() : stack.dataDir().toString();
    StringBuilder b = new StringBuilder("\nPEFT Platform is up at " + url + "\n\n");
    b.append("  web console        ").append(url).append("/   (log in with an API key)\n");
    b.append("  API documentation  ").append(url).append("/q/swagger-ui\n");
    if (stack.firstStart()) {
      b.append("  admin API key      ").append(stack.adminKey()).append("   (shown once: keep it; export PEFT_API_KEY=…)\n");
    } else {
      b.append("  admin API key      the one printed on first start (kept in ").append(data).append("/stack.properties)\n");
    }
    if (stack.demo() != null) {
      b.append("  demo model         ").append(stack.demo().model()).append("   (tiny, random weights)\n");
      b.append("  demo dataset       ").append(stack.demo().dataset()).append("   (50 prompt/completion lines)\n");
    }
    for (Map.Entry<String, String> e : stack.backends().entrySet()) {
      b.append(String.format("  %-18s %s%n", e.getKey(), e.getValue()));
    }
    b.append("  logs               ").append(data).append("/logs/\n");
    b.append("  metrics            ").append(String.join("\n                     ", stack.metricsUrls().entrySet().stream()
        .map(e -> e.getValue() + "   (" + e.getKey() + ")").toList())).append('\n');
    b.append("                     (jobs: Authorization: Bearer <internal-token in ").append(data).append("/stack.properties>)\n");
    b.append("  traces             ").append(stack.tracesOrigin()).append('\n');
    if (stack.demo() != null) {
      b.append("\nA first job:\n\n");
      b.append("  export PEFT_URL=").append(url).append(" PEFT_API_KEY=").append(stack.firstStart() ? stack.adminKey() : "<admin key>").append('\n');
      b.append("  ./peft jobs create --model ").append(stack.demo().model()).append(" --training-file ").append(stack.demo().dataset())
          .append(" --adapter lora --epochs 3 --learning-rate 5e-3 --follow\n");
    }
    b.append("\nCtrl-C stops everything; the data stays in ").append(data).append("/.\n");
    System.out.println(b);
  }

  public static void main(String[] args) {
    CommandLine cli = new CommandLine(new StackCommand());
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      System.err.println("peft up: " + e.getMessage());
      return 1;
    });
    System.exit(cli.execute(args));
  }
}

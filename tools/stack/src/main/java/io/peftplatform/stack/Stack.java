package io.peftplatform.stack;

import io.peftplatform.infra.ChildProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The whole platform on one machine: backends (embedded or external), then the artifacts service,
 * training workers, a merging worker and the jobs service (the public API), each its own JVM. Closing stops the services,
 * then the embedded backends; the data stays in the data directory for the next start.
 */
public final class Stack implements AutoCloseable {
  private static final Duration READY_TIMEOUT = Duration.ofMinutes(3);

  /**
   * @param home the repository root (services/*&#47;target/quarkus-app are run from there)
   * @param dataDir where the stack keeps its data: backends, secrets, logs, caches
   * @param port the public API's port; 0 picks a free one
   * @param workers training workers to start (0 for none yet)
   * @param environment where external backends are named (normally System.getenv())
   */
  public record Options(Path home, Path dataDir, int port, int workers, boolean demo, Map<String, String> environment,
      Consumer<String> progress) {}

  private final Options options;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final StackState state;
  private Backends backends;
  private final Map<String, String> serviceEnv = new LinkedHashMap<>();
  private ServiceProcess artifacts;
  private ServiceProcess jobs;
  private ServiceProcess merging;
  private final List<ServiceProcess> workers = new ArrayList<>();
  private int workersStarted;
  private int trainingPort;
  private DemoContent.Ids demo;

  private Stack(Options options) {
    this.options = options;
    try {
      // Tenants' data, secrets and logs live here: owner-only.
      io.peftplatform.infra.PrivateFiles.directory(options.dataDir());
      lockChannel = FileChannel.open(options.dataDir().resolve("stack.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      lock = lockChannel.tryLock();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot use " + options.dataDir() + ": " + e.getMessage(), e);
    }
    if (lock == null) {
      throw new IllegalStateException("another stack is running on " + options.dataDir() + " (stop it with Ctrl-C first)");
    }
    state = StackState.load(options.dataDir());
  }

  public static Stack start(Options options) {
    Stack stack = new Stack(options);
    try {
      stack.startAll();
      return stack;
    } catch (RuntimeException | Error e) {
      stack.close();
      throw e;
    }
  }

  private void startAll() {
    int publicPort = options.port() == 0 ? ChildProcess.freePort() : options.port();
    if (ChildProcess.portOpen(publicPort)) {
      throw new IllegalStateException("port " + publicPort + " is in use: choose another with --port (or PEFT_PORT)");
    }
    backends = Backends.start(options.dataDir(), state, options.environment(), options.progress());
    serviceEnv.putAll(backends.environment());
    serviceEnv.put("PEFT_INTERNAL_TOKEN", state.get("internal-token"));
    int artifactsPort = ChildProcess.freePort();
    trainingPort = ChildProcess.freePort();

    options.progress().accept("starting the services…");
    Map<String, String> artifactsEnv = new LinkedHashMap<>(serviceEnv);
    artifactsEnv.put("PEFT_ARTIFACTS_PORT", String.valueOf(artifactsPort));
    artifactsEnv.put("PEFT_WORK_DIR", options.dataDir().resolve("work/artifacts").toString());
    artifacts = ServiceProcess.start("artifacts", app("artifacts"), List.of("-Xmx512m", "-XX:+UseSerialGC"), artifactsEnv,
        artifactsPort, logs());

    Map<String, String> jobsEnv = new LinkedHashMap<>(serviceEnv);
    jobsEnv.put("PEFT_JOBS_PORT", String.valueOf(publicPort));
    jobsEnv.put("PEFT_ADMIN_KEY", state.get("admin-key"));
    jobsEnv.put("PEFT_ARTIFACTS_URL", "http://127.0.0.1:" + artifactsPort);
    jobsEnv.put("PEFT_TRAINING_URL", "http://127.0.0.1:" + trainingPort);
    jobs = ServiceProcess.start("jobs", app("jobs"), List.of("-Xmx384m", "-XX:+UseSerialGC"), jobsEnv, publicPort, logs());

    Map<String, String> mergingEnv = new LinkedHashMap<>(serviceEnv);
    int mergingPort = ChildProcess.freePort();
    mergingEnv.put("PEFT_MERGING_PORT", String.valueOf(mergingPort));
    mergingEnv.put("PEFT_CACHE_DIR", options.dataDir().resolve("cache/merging").toString());
    mergingEnv.put("PEFT_WORK_DIR", options.dataDir().resolve("work/merging").toString());
    merging = ServiceProcess.start("merging", app("merging"), numericJvm("-Xmx512m"), numericEnv(mergingEnv), mergingPort, logs());

    List<ServiceProcess> starting = new ArrayList<>(List.of(artifacts, jobs, merging));
    for (int i = 0; i < options.workers(); i++) {
      starting.add(startWorkerProcess());
    }
    for (ServiceProcess s : starting) {
      s.awaitReady(READY_TIMEOUT);
    }
    if (options.demo()) {
      demo = DemoContent.ensure(options.dataDir(), state, url(), options.progress());
    }
  }

  private ServiceProcess startWorkerProcess() {
    int n = workersStarted++;
    // The first worker also serves generation, on the port the jobs service calls.
    int port = workers.stream().anyMatch(w -> w.port() == trainingPort && w.isAlive()) ? ChildProcess.freePort() : trainingPort;
    String name = "training-" + (n + 1);
    Map<String, String> env = new LinkedHashMap<>(serviceEnv);
    env.put("PEFT_TRAINING_PORT", String.valueOf(port));
    env.put("PEFT_WORKER_ID", name);
    env.put("PEFT_CACHE_DIR", options.dataDir().resolve("cache/" + name).toString());
    env.put("PEFT_WORK_DIR", options.dataDir().resolve("work/" + name).toString());
    ServiceProcess w = ServiceProcess.start(name, app("training"), numericJvm("-Xmx1g"), numericEnv(env), port, logs());
    workers.add(w);
    return w;
  }

  /** Threads for the numeric library (ND4J's OpenMP and OpenBLAS). */
  private static Map<String, String> numericEnv(Map<String, String> env) {
    int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
    env.put("OMP_NUM_THREADS", String.valueOf(threads));
    env.put("OPENBLAS_NUM_THREADS", String.valueOf(threads));
    env.put("OMP_WAIT_POLICY", "PASSIVE");
    return env;
  }

  /** A heap and a bound on ND4J's off-heap memory (freed only when the GC runs). */
  private static List<String> numericJvm(String heap) {
    long offHeap = Math.max(1L << 30, physicalMemory() * 6 / 10);
    return List.of(heap, "-XX:+UseSerialGC", "-Dorg.bytedeco.javacpp.maxbytes=" + offHeap,
        "-Dorg.bytedeco.javacpp.maxphysicalbytes=" + offHeap);
  }

  /** Starts one more training worker and waits until it is ready. */
  public synchronized void startWorker() {
    startWorkerProcess().awaitReady(READY_TIMEOUT);
  }

  /** Stops a running worker: gracefully (its job goes back to the queue) or by killing it, as a crash would. */
  public synchronized void stopWorker(int index, boolean kill) {
    ServiceProcess w = workers.get(index);
    if (kill) {
      w.kill();
    }
    w.close();
  }

  /** Workers started so far, running or not. */
  public synchronized int workerCount() {
    return workers.size();
  }

  private Path app(String service) {
    return options.home().resolve("services").resolve(service).resolve("target/quarkus-app");
  }

  private Path logs() {
    return options.dataDir().resolve("logs");
  }

  private static long physicalMemory() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | RuntimeException ignored) {
      // not Linux: assume 8 GB
    }
    return 8L << 30;
  }

  /** The public API's address. */
  public String url() {
    return "http://localhost:" + jobs.port();
  }

  public String adminKey() {
    return state.get("admin-key");
  }

  /** The services' shared secret (for tests that check it is never exposed). */
  String internalToken() {
    return state.get("internal-token");
  }

  /** Whether this start created the stack's data (its admin key has not been shown before). */
  public boolean firstStart() {
    return state.firstStart();
  }

  /** The demo model and dataset, when registered. */
  public DemoContent.Ids demo() {
    return demo;
  }

  public Map<String, String> backends() {
    return backends == null ? Map.of() : backends.origin();
  }

  public Path dataDir() {
    return options.dataDir();
  }

  @Override
  public synchronized void close() {
    List<ServiceProcess> all = new ArrayList<>();
    if (jobs != null) {
      all.add(jobs);
    }
    all.addAll(workers);
    if (merging != null) {
      all.add(merging);
    }
    if (artifacts != null) {
      all.add(artifacts);
    }
    all.parallelStream().forEach(ServiceProcess::close);
    if (backends != null) {
      backends.close();
    }
    try {
      lock.release();
      lockChannel.close();
    } catch (IOException | RuntimeException ignored) {
      // the process is ending
    }
  }
}

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
 * training workers, a merging worker and the jobs service (the public API), each its own JVM. A
 * {@link Supervisor} keeps every part running: one that dies is started again on the same address.
 * Closing stops the services, then the embedded backends; the data stays in the data directory for the
 * next start.
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
  private TraceCollector traces;
  private String tracesOrigin;
  private final Map<String, String> serviceEnv = new LinkedHashMap<>();
  private final Supervisor supervisor;
  private volatile ServiceProcess artifacts;
  private volatile ServiceProcess jobs;
  private volatile ServiceProcess merging;
  /** Training workers by name, in the order they were started (a restarted one keeps its place). */
  private final Map<String, ServiceProcess> workers = new LinkedHashMap<>();
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
    supervisor = new Supervisor(options.progress());
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
    startTraces();
    serviceEnv.put("PEFT_INTERNAL_TOKEN", state.get("internal-token"));
    int artifactsPort = ChildProcess.freePort();
    trainingPort = ChildProcess.freePort();

    options.progress().accept("starting the services…");
    Map<String, String> artifactsEnv = new LinkedHashMap<>(serviceEnv);
    artifactsEnv.put("PEFT_ARTIFACTS_PORT", String.valueOf(artifactsPort));
    artifactsEnv.put("PEFT_WORK_DIR", options.dataDir().resolve("work/artifacts").toString());
    artifacts = service("artifacts", "artifacts", List.of("-Xmx512m", "-XX:+UseSerialGC"), artifactsEnv, artifactsPort, s -> artifacts = s);

    Map<String, String> jobsEnv = new LinkedHashMap<>(serviceEnv);
    jobsEnv.put("PEFT_JOBS_PORT", String.valueOf(publicPort));
    jobsEnv.put("PEFT_ADMIN_KEY", state.get("admin-key"));
    jobsEnv.put("PEFT_ARTIFACTS_URL", "http://127.0.0.1:" + artifactsPort);
    jobsEnv.put("PEFT_TRAINING_URL", "http://127.0.0.1:" + trainingPort);
    jobs = service("jobs", "jobs", List.of("-Xmx384m", "-XX:+UseSerialGC"), jobsEnv, publicPort, s -> jobs = s);

    Map<String, String> mergingEnv = new LinkedHashMap<>(serviceEnv);
    int mergingPort = ChildProcess.freePort();
    mergingEnv.put("PEFT_MERGING_PORT", String.valueOf(mergingPort));
    mergingEnv.put("PEFT_WORKER_ID", "merging-1");
    mergingEnv.put("PEFT_CACHE_DIR", options.dataDir().resolve("cache/merging").toString());
    mergingEnv.put("PEFT_WORK_DIR", options.dataDir().resolve("work/merging").toString());
    merging = service("merging", "merging", numericJvm("-Xmx512m"), numericEnv(mergingEnv), mergingPort, s -> merging = s);

    List<ServiceProcess> starting = new ArrayList<>(List.of(artifacts, jobs, merging));
    for (int i = 0; i < options.workers(); i++) {
      starting.add(startWorkerProcess());
    }
    for (ServiceProcess s : starting) {
      s.awaitReady(READY_TIMEOUT);
    }
    backends.supervise(supervisor);
    supervisor.start();
    if (options.demo()) {
      demo = DemoContent.ensure(options.dataDir(), state, url(), options.progress());
    }
  }

  /**
   * Where the services send their traces: the collector {@code PEFT_OTLP_ENDPOINT} names (OTLP/HTTP), or
   * one kept in this process (in memory, read at {@link #tracesUrl}). Spans leave the services every second.
   */
  private void startTraces() {
    String external = options.environment().get("PEFT_OTLP_ENDPOINT");
    if (external != null && !external.isBlank()) {
      serviceEnv.put("PEFT_OTLP_ENDPOINT", external);
      tracesOrigin = external + " (PEFT_OTLP_ENDPOINT)";
    } else {
      traces = TraceCollector.start(0);
      serviceEnv.put("PEFT_OTLP_ENDPOINT", traces.otlpEndpoint());
      tracesOrigin = traces.url() + "   (?job_id=… for a job's)";
    }
    serviceEnv.put("PEFT_OTLP_EXPORT_DELAY", "1s");
  }

  /**
   * Starts a service and puts it under supervision: after a crash it is started again with the same
   * settings and port, and {@code replaced} is told of the new process.
   */
  private ServiceProcess service(String name, String app, List<String> jvm, Map<String, String> env, int port,
      java.util.function.Consumer<ServiceProcess> replaced) {
    ServiceProcess first = ServiceProcess.start(name, app(app), jvm, env, port, logs());
    supervisor.add(name, () -> {
      ServiceProcess again = ServiceProcess.start(name, app(app), jvm, env, port, logs());
      try {
        again.awaitLive(READY_TIMEOUT);
      } catch (RuntimeException e) {
        again.close();
        throw e;
      }
      replaced.accept(again);
      return again;
    }, first);
    return first;
  }

  private ServiceProcess startWorkerProcess() {
    int n = workersStarted++;
    // The first worker also serves generation, on the port the jobs service calls.
    int port = workers.values().stream().anyMatch(w -> w.port() == trainingPort && w.isAlive()) ? ChildProcess.freePort() : trainingPort;
    String name = "training-" + (n + 1);
    Map<String, String> env = new LinkedHashMap<>(serviceEnv);
    env.put("PEFT_TRAINING_PORT", String.valueOf(port));
    env.put("PEFT_WORKER_ID", name);
    env.put("PEFT_CACHE_DIR", options.dataDir().resolve("cache/" + name).toString());
    env.put("PEFT_WORK_DIR", options.dataDir().resolve("work/" + name).toString());
    ServiceProcess w = service(name, "training", numericJvm("-Xmx1g"), numericEnv(env), port, again -> {
      synchronized (this) {
        workers.put(name, again);
      }
    });
    workers.put(name, w);
    return w;
  }

  /**
   * Threads for the numeric library (ND4J's OpenMP and OpenBLAS), and for the workers' consumer groups
   * the shortest session the broker allows: on one machine a dead worker's jobs move on after 6 s.
   */
  private static Map<String, String> numericEnv(Map<String, String> env) {
    env.put("PEFT_KAFKA_SESSION_TIMEOUT_MS", "6000");
    env.put("PEFT_KAFKA_HEARTBEAT_INTERVAL_MS", "2000");
    int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
    env.put("OMP_NUM_THREADS", String.valueOf(threads));
    env.put("OPENBLAS_NUM_THREADS", String.valueOf(threads));
    env.put("OMP_WAIT_POLICY", "PASSIVE");
    env.put("OPENBLAS_THREAD_TIMEOUT", "4"); // idle OpenBLAS threads sleep at once instead of spinning (the peft script's note)
    // malloc keeps freed memory: no page faults on oneDNN's per-product scratch (the peft script's note)
    env.put("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=1073741824:glibc.malloc.trim_threshold=17179869184:glibc.malloc.top_pad=268435456");
    return env;
  }

  /** A heap and a bound on ND4J's off-heap memory (freed only when the GC runs). */
  private static List<String> numericJvm(String heap) {
    long offHeap = Math.max(1L << 30, physicalMemory() * 6 / 10);
    return List.of(heap, "-XX:+UseSerialGC", "--add-modules=jdk.incubator.vector", "-Dorg.bytedeco.javacpp.maxbytes=" + offHeap,
        "-Dorg.bytedeco.javacpp.maxphysicalbytes=" + offHeap);
  }

  /** Starts one more training worker and waits until it is ready. */
  public synchronized void startWorker() {
    startWorkerProcess().awaitReady(READY_TIMEOUT);
  }

  /**
   * Stops a worker: gracefully and for good (its job goes back to the queue; the supervisor leaves it
   * stopped), or by killing it, as a crash would (the supervisor starts it again).
   */
  public void stopWorker(int index, boolean kill) {
    ServiceProcess w;
    String name;
    synchronized (this) {
      name = new ArrayList<>(workers.keySet()).get(index);
      w = workers.get(name);
    }
    if (kill) {
      w.kill();
      return;
    }
    supervisor.remove(name);
    w.close();
    synchronized (this) {
      workers.remove(name);
    }
  }

  /** Workers running or being restarted. */
  public synchronized int workerCount() {
    return workers.size();
  }

  /** The parts of the stack the supervisor keeps running: kafka, s3, postgres (embedded ones), and each service. */
  public List<String> parts() {
    return supervisor.names();
  }

  /** Kills a part at once (SIGKILL), as a crash would; the supervisor starts it again. */
  public void kill(String part) {
    Supervisor.Part p = supervisor.get(part).part;
    if (p != null) {
      p.kill();
    }
  }

  /** Keeps a part down (killing it) until {@link #release}: an outage. */
  public void hold(String part) {
    supervisor.hold(part);
  }

  /** Ends an outage begun by {@link #hold}: the supervisor starts the part again. */
  public void release(String part) {
    supervisor.release(part);
  }

  /** How many times the supervisor has started the part again. */
  public int restarts(String part) {
    return supervisor.get(part).restarts;
  }

  /** Whether the part runs now. */
  public boolean isUp(String part) {
    Supervisor.Part p = supervisor.get(part).part;
    return p != null && p.isAlive() && !supervisor.get(part).restarting;
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

  /** Each service's Prometheus page (/q/metrics), by service name: jobs, artifacts, merging, then each training worker. */
  public Map<String, String> metricsUrls() {
    Map<String, String> out = new LinkedHashMap<>();
    for (ServiceProcess s : List.of(jobs, artifacts, merging)) {
      out.put(s.name(), "http://localhost:" + s.port() + "/q/metrics");
    }
    synchronized (this) {
      workers.forEach((name, w) -> out.put(name, "http://localhost:" + w.port() + "/q/metrics"));
    }
    return out;
  }

  public String adminKey() {
    return state.get("admin-key");
  }

  /** The token services call each other with; Prometheus sends it to scrape the jobs service (the public address). */
  public String internalToken() {
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

  /** The stack's own trace collector (null when the traces go to the one PEFT_OTLP_ENDPOINT names). */
  public TraceCollector traces() {
    return traces;
  }

  /** Where the traces are, for the banner. */
  public String tracesOrigin() {
    return tracesOrigin;
  }

  public Map<String, String> backends() {
    return backends == null ? Map.of() : backends.origin();
  }

  public Path dataDir() {
    return options.dataDir();
  }

  @Override
  public void close() {
    supervisor.close();
    List<ServiceProcess> all = new ArrayList<>();
    synchronized (this) {
      if (jobs != null) {
        all.add(jobs);
      }
      all.addAll(workers.values());
      if (merging != null) {
        all.add(merging);
      }
      if (artifacts != null) {
        all.add(artifacts);
      }
    }
    all.parallelStream().forEach(ServiceProcess::close);
    if (backends != null) {
      backends.close();
    }
    if (traces != null) {
      traces.close();
    }
    try {
      lock.release();
      lockChannel.close();
    } catch (IOException | RuntimeException ignored) {
      // the process is ending
    }
  }
}

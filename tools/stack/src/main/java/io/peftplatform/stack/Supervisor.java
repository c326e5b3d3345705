package io.peftplatform.stack;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Keeps every part of the local stack running, as Kubernetes would: a part that exits (killed, crashed,
 * out of memory) is started again on the same address, with backoff (1 s, doubling to 30 s), and a
 * service whose liveness check fails three times in a row is killed and started again. Each restart is
 * said on the stack's output. A part can be held down on purpose (tests of outages), and is then left
 * alone until released.
 */
final class Supervisor implements AutoCloseable {
  private static final Duration CHECK_EVERY = Duration.ofSeconds(1);
  private static final Duration LIVENESS_EVERY = Duration.ofSeconds(5);
  private static final int LIVENESS_FAILURES = 3;
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
  /** Running this long since its last start resets a part's backoff. */
  private static final Duration STABLE_AFTER = Duration.ofSeconds(60);

  /** What the supervisor needs of one part. */
  interface Part {
    boolean isAlive();

    /** Whether a running part still works (a service's liveness check); true where there is none. */
    default boolean live() {
      return true;
    }

    /** Kills it at once (SIGKILL). */
    void kill();

    /** Releases what is left of it after it died (a pid file, a lock). */
    void close();
  }

  /** Starts a part and waits until it serves. */
  interface Starter {
    Part start();
  }

  /** One supervised part and how to start it. */
  static final class Component {
    final String name;
    final Starter starter;
    volatile Part part;
    volatile boolean held;
    volatile boolean restarting;
    volatile int restarts;
    volatile long startedAt = System.nanoTime();
    long nextTryAt;
    long backoffMillis = 1000;
    long lastLivenessCheck;
    int livenessFailures;

    Component(String name, Starter starter, Part running) {
      this.name = name;
      this.starter = starter;
      this.part = running;
    }
  }

  private final List<Component> components = new CopyOnWriteArrayList<>();
  private final Map<String, Component> byName = new ConcurrentHashMap<>();
  private final Consumer<String> say;
  private final Thread thread;
  /** Restarts run here, so a part slow to come back never delays another's. */
  private final java.util.concurrent.ExecutorService restarter = java.util.concurrent.Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "peft-up-restart");
    t.setDaemon(true);
    return t;
  });
  private volatile boolean running = true;

  Supervisor(Consumer<String> say) {
    this.say = say;
    this.thread = new Thread(this::watch, "peft-up-supervisor");
    this.thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  /** Watches a part that is already running. */
  synchronized void add(String name, Starter starter, Part running) {
    Component c = new Component(name, starter, running);
    components.add(c);
    byName.put(name, c);
  }

  /** Stops watching a part (it was stopped on purpose). */
  synchronized void remove(String name) {
    Component c = byName.remove(name);
    if (c != null) {
      components.remove(c);
    }
  }

  Component get(String name) {
    Component c = byName.get(name);
    if (c == null) {
      throw new IllegalArgumentException("no part named " + name + "; the stack has " + byName.keySet());
    }
    return c;
  }

  List<String> names() {
    return components.stream().map(c -> c.name).toList();
  }

  /** Keeps the part down (killing it if it runs) until {@link #release}. */
  void hold(String name) {
    Component c = get(name);
    c.held = true;
    Part p = c.part;
    if (p != null && p.isAlive()) {
      p.kill();
    }
  }

  /** Lets the supervisor start the part again (at once). */
  void release(String name) {
    Component c = get(name);
    c.nextTryAt = 0;
    c.backoffMillis = 1000;
    c.held = false;
  }

  private void watch() {
    while (running) {
      for (Component c : components) {
        if (!running) {
          return;
        }
        try {
          check(c);
        } catch (RuntimeException e) {
          say.accept(c.name + ": supervision failed: " + e.getMessage());
        }
      }
      try {
        Thread.sleep(CHECK_EVERY.toMillis());
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private void check(Component c) {
    if (c.held || c.restarting) {
      return;
    }
    Part p = c.part;
    long now = System.nanoTime();
    if (p != null && p.isAlive()) {
      if (now - c.startedAt > STABLE_AFTER.toNanos()) {
        c.backoffMillis = 1000;
      }
      if (now - c.lastLivenessCheck > LIVENESS_EVERY.toNanos()) {
        c.lastLivenessCheck = now;
        c.livenessFailures = p.live() ? 0 : c.livenessFailures + 1;
        if (c.livenessFailures >= LIVENESS_FAILURES) {
          say.accept(c.name + " failed its liveness check " + LIVENESS_FAILURES + " times in a row; killing it");
          p.kill();
          c.livenessFailures = 0;
        }
      }
      return;
    }
    if (now < c.nextTryAt) {
      return;
    }
    c.restarting = true;
    restarter.execute(() -> {
      try {
        restart(c, p);
      } finally {
        c.restarting = false;
      }
    });
  }

  private void restart(Component c, Part p) {
    c.restarts++;
    say.accept(c.name + " stopped; starting it again (restart " + c.restarts + ")");
    if (p != null) {
      try {
        p.close();
      } catch (RuntimeException ignored) {
        // what was left of it
      }
    }
    long t0 = System.nanoTime();
    try {
      c.part = c.starter.start();
      c.startedAt = System.nanoTime();
      c.livenessFailures = 0;
      say.accept(c.name + " is back (" + Duration.ofNanos(System.nanoTime() - t0).toMillis() / 100 / 10.0 + " s)");
    } catch (RuntimeException e) {
      c.part = null;
      say.accept(c.name + " did not start: " + firstLine(e.getMessage()) + "; trying again in " + c.backoffMillis / 1000 + " s");
      c.nextTryAt = System.nanoTime() + c.backoffMillis * 1_000_000;
      c.backoffMillis = Math.min(c.backoffMillis * 2, MAX_BACKOFF.toMillis());
    }
  }

  private static String firstLine(String s) {
    return s == null ? "" : s.lines().findFirst().orElse("");
  }

  @Override
  public void close() {
    running = false;
    restarter.shutdownNow();
    thread.interrupt();
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

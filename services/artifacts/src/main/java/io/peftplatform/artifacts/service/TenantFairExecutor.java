package io.peftplatform.artifacts.service;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * A fixed number of threads running tasks queued per tenant, tenants taking turns: one tenant queueing a
 * hundred imports delays another tenant's next one by at most one task per thread, not by a hundred.
 * Each task has a key (the model's id) so the service can tell which it holds.
 */
final class TenantFairExecutor implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(TenantFairExecutor.class);

  private record Task(String key, Runnable work) {}

  /** Tenants in turn order (the next one first), each with its waiting tasks. */
  private final LinkedHashMap<String, Deque<Task>> queues = new LinkedHashMap<>();
  private final Set<String> held = ConcurrentHashMap.newKeySet();
  private final java.util.concurrent.atomic.AtomicInteger running = new java.util.concurrent.atomic.AtomicInteger();
  private final List<Thread> threads;
  private volatile boolean closed;

  TenantFairExecutor(int threadCount, String name) {
    threads = java.util.stream.IntStream.range(0, threadCount).mapToObj(i -> {
      Thread t = new Thread(this::work, name + "-" + (i + 1));
      t.setDaemon(true);
      t.start();
      return t;
    }).toList();
  }

  synchronized void submit(String tenant, String key, Runnable work) {
    if (closed) {
      throw new IllegalStateException("shutting down");
    }
    held.add(key);
    queues.computeIfAbsent(tenant, t -> new ArrayDeque<>()).add(new Task(key, work));
    notifyAll();
  }

  /** Keys of the tasks waiting or running here. */
  Set<String> held() {
    return Set.copyOf(held);
  }

  /** Tasks waiting for a thread. */
  synchronized int queued() {
    return queues.values().stream().mapToInt(Deque::size).sum();
  }

  /** Tasks running now (at most the thread count). */
  int running() {
    return running.get();
  }

  private synchronized Task next() throws InterruptedException {
    while (!closed) {
      Iterator<Map.Entry<String, Deque<Task>>> first = queues.entrySet().iterator();
      if (first.hasNext()) {
        Map.Entry<String, Deque<Task>> turn = first.next();
        first.remove();
        Task task = turn.getValue().poll();
        if (!turn.getValue().isEmpty()) {
          queues.put(turn.getKey(), turn.getValue()); // to the back of the line
        }
        return task;
      }
      wait();
    }
    return null;
  }

  private void work() {
    while (true) {
      Task task;
      try {
        task = next();
      } catch (InterruptedException e) {
        return;
      }
      if (task == null) {
        return;
      }
      running.incrementAndGet();
      try {
        task.work().run();
      } catch (RuntimeException e) {
        LOG.errorf(e, "task %s failed", task.key());
      } finally {
        running.decrementAndGet();
        held.remove(task.key());
      }
    }
  }

  @Override
  public void close() {
    synchronized (this) {
      closed = true;
      notifyAll();
    }
    threads.forEach(Thread::interrupt);
  }
}

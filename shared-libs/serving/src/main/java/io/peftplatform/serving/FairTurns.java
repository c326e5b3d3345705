package io.peftplatform.serving;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One generation at a time (it uses every core), tenants taking turns: when the current one ends, the
 * next tenant in turn order goes, so a tenant with a hundred requests queued delays another tenant's
 * next request by one request, not a hundred. Within a tenant, first come first served.
 */
public final class FairTurns {
  /** Tenants waiting, in turn order, each with its waiting requests. */
  private final LinkedHashMap<String, Deque<Turn>> waiting = new LinkedHashMap<>();
  private Turn current;

  /** A held turn; closing it hands the server to the next tenant. */
  public final class Turn implements AutoCloseable {
    private final String tenant;
    private boolean granted;
    private boolean closed;

    private Turn(String tenant) {
      this.tenant = tenant;
    }

    public String tenant() {
      return tenant;
    }

    @Override
    public void close() {
      release(this);
    }
  }

  /** Waits for the tenant's turn. */
  public Turn take(String tenant) throws InterruptedException {
    Turn t = new Turn(tenant);
    synchronized (this) {
      waiting.computeIfAbsent(tenant, k -> new ArrayDeque<>()).addLast(t);
      grantNext();
      try {
        while (!t.granted) {
          wait();
        }
      } catch (InterruptedException e) {
        if (t.granted) {
          release(t);
        } else {
          Deque<Turn> q = waiting.get(tenant);
          q.remove(t);
          if (q.isEmpty()) {
            waiting.remove(tenant);
          }
        }
        throw e;
      }
    }
    return t;
  }

  /** How many requests wait, of every tenant. */
  public synchronized int waiting() {
    return waiting.values().stream().mapToInt(Deque::size).sum();
  }

  private synchronized void release(Turn t) {
    if (t.closed) {
      return;
    }
    t.closed = true;
    if (current == t) {
      current = null;
      grantNext();
    }
  }

  /** Gives the server to the first waiting request of the tenant whose turn it is, who then goes last. */
  private void grantNext() {
    if (current != null || waiting.isEmpty()) {
      return;
    }
    Map.Entry<String, Deque<Turn>> first = waiting.entrySet().iterator().next();
    String tenant = first.getKey();
    Deque<Turn> q = waiting.remove(tenant);
    current = q.removeFirst();
    current.granted = true;
    if (!q.isEmpty()) {
      waiting.put(tenant, q); // to the back of the turn order
    }
    notifyAll();
  }
}

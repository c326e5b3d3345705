package io.peftplatform.storage;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The runs of one job or merge, each under a prefix of its own ({@code <base>attempts/<nnn>-<worker>/}):
 * {@code started.json} when a worker takes the work up, {@code ended.json} when it lets go of it (finished,
 * handed over), the outcome in {@code result.json}. An attempt that started and never ended is one whose
 * worker died; counting them tells a job that crashes its workers from one that was merely unlucky.
 */
public final class Attempts {
  /** The base of a job or merge ({@link ObjectLayout#jobPrefix}, {@link ObjectLayout#mergePrefix}). */
  public record Attempt(String base, String id, int number, int crashedBefore, String lastCrashedWorker) {
    /** Where this attempt writes. */
    public String prefix() {
      return base + "attempts/" + id + "/";
    }
  }

  private static final String STARTED = "started.json";
  private static final String ENDED = "ended.json";
  private static final String RESULT = "result.json";

  private Attempts() {}

  /** Records a new attempt by this worker, after counting the earlier ones that never ended. */
  public static Attempt begin(ObjectStore store, String base, String worker) {
    TreeMap<String, TreeSet<String>> attempts = list(store, base);
    int crashed = 0;
    int highest = 0;
    String lastCrashed = null;
    for (var e : attempts.entrySet()) {
      highest = Math.max(highest, number(e.getKey()));
      if (e.getValue().contains(STARTED) && !e.getValue().contains(ENDED)) {
        crashed++;
        lastCrashed = e.getKey().substring(e.getKey().indexOf('-') + 1);
      }
    }
    String id = String.format("%03d-%s", highest + 1, worker.replaceAll("[^A-Za-z0-9._-]", "_"));
    Attempt a = new Attempt(base, id, highest + 1, crashed, lastCrashed);
    write(store, a.prefix() + STARTED, "{\"worker\": \"" + id.substring(4) + "\", \"started_at\": \"" + Instant.now() + "\"}");
    return a;
  }

  /** Records that the attempt let go of the work ({@code how}: finished, handed_over, …). */
  public static void end(ObjectStore store, Attempt a, String how) {
    write(store, a.prefix() + ENDED, "{\"how\": \"" + how + "\", \"ended_at\": \"" + Instant.now() + "\"}");
  }

  /** Stores the attempt's outcome (an encoded event) before it is announced. */
  public static void storeOutcome(ObjectStore store, Attempt a, String encoded) {
    write(store, a.prefix() + RESULT, encoded);
  }

  /** The outcome an earlier attempt stored, if one finished (the first, if several did). */
  public static Optional<String> outcome(ObjectStore store, String base) {
    for (var e : list(store, base).entrySet()) {
      if (e.getValue().contains(RESULT)) {
        return Optional.of(store.readText(base + "attempts/" + e.getKey() + "/" + RESULT));
      }
    }
    return Optional.empty();
  }

  /**
   * The key of the newest file called {@code name} that any attempt wrote at its top (a learned
   * merge's saved state, say), for the next attempt to resume from.
   */
  public static Optional<String> latestFile(ObjectStore store, String base, String name) {
    String found = null;
    for (var e : list(store, base).entrySet()) {
      if (e.getValue().contains(name)) {
        found = base + "attempts/" + e.getKey() + "/" + name; // attempts sort in the order they began
      }
    }
    return Optional.ofNullable(found);
  }

  /** The attempts under base, in order, with the file names each holds at its top. */
  private static TreeMap<String, TreeSet<String>> list(ObjectStore store, String base) {
    String prefix = base + "attempts/";
    TreeMap<String, TreeSet<String>> out = new TreeMap<>();
    for (String key : store.list(prefix)) {
      String rest = key.substring(prefix.length());
      int slash = rest.indexOf('/');
      if (slash > 0) {
        out.computeIfAbsent(rest.substring(0, slash), k -> new TreeSet<>()).add(rest.substring(slash + 1));
      }
    }
    return out;
  }

  private static int number(String id) {
    try {
      return Integer.parseInt(id.substring(0, id.indexOf('-')));
    } catch (RuntimeException e) {
      return 0;
    }
  }

  private static void write(ObjectStore store, String key, String text) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    store.put(key, new ByteArrayInputStream(bytes), bytes.length);
  }
}

package io.peftplatform.storage;

/**
 * Object keys, tenant first so a tenant's objects share a prefix:
 *
 * <pre>
 * tenants/{tenant}/models/{modelId}/{file}                      (uploaded or imported)
 * tenants/{tenant}/models/{modelId}/{attempt}/{file}            (written by a merge)
 * tenants/{tenant}/datasets/{datasetId}/data.jsonl
 * tenants/{tenant}/jobs/{jobId}/attempts/{attempt}/started.json, ended.json
 * tenants/{tenant}/jobs/{jobId}/attempts/{attempt}/checkpoints/checkpoint-{step}/{file}
 * tenants/{tenant}/jobs/{jobId}/attempts/{attempt}/result.json
 * tenants/{tenant}/adapters/{adapterId}/{attempt}/{file}        (trained, or written by a merge)
 * tenants/{tenant}/merges/{mergeId}/attempts/{attempt}/…         (as a job's)
 * </pre>
 *
 * <p>Everything a worker writes for a job or merge lies under its attempt (see {@link Attempts}), so two
 * runs of one job — a worker presumed dead and its successor — never write the same key.
 */
public final class ObjectLayout {
  private static final java.util.regex.Pattern DIGEST = java.util.regex.Pattern.compile("[0-9a-f]{64}");
  private static final java.util.regex.Pattern SEGMENT = java.util.regex.Pattern.compile("[A-Za-z0-9._-]{1,200}");

  private ObjectLayout() {}

  /** A SHA-256 as the platform writes it: 64 lowercase hex digits (and so safe in a path). */
  public static boolean isDigest(String s) {
    return s != null && DIGEST.matcher(s).matches();
  }

  /** A key under the tenant's own prefix whose every segment is a plain name (no "..", no empty part). */
  public static boolean isTenantKey(String key, String tenant) {
    if (key == null || !key.startsWith("tenants/" + tenant + "/")) {
      return false;
    }
    for (String segment : key.split("/", -1)) {
      if (!SEGMENT.matcher(segment).matches() || segment.equals(".") || segment.equals("..")) {
        return false;
      }
    }
    return true;
  }

  /** A reference another service may hand a worker: the tenant's own key, a real digest, a size. */
  public static boolean isValidRef(io.peftplatform.events.ObjectRef ref, String tenant) {
    return ref != null && isTenantKey(ref.key(), tenant) && isDigest(ref.sha256()) && ref.bytes() >= 0;
  }

  public static String modelPrefix(String tenant, String modelId) {
    return "tenants/" + tenant + "/models/" + modelId + "/";
  }

  public static String datasetKey(String tenant, String datasetId) {
    return "tenants/" + tenant + "/datasets/" + datasetId + "/data.jsonl";
  }

  /** The dataset id in a key made by {@link #datasetKey}. */
  public static String datasetId(String key) {
    String[] parts = key.split("/");
    if (parts.length != 5 || !parts[0].equals("tenants") || !parts[2].equals("datasets")) {
      throw new IllegalArgumentException("not a dataset key: " + key);
    }
    return parts[3];
  }

  /** Everything of one job: its attempts, their checkpoints and outcomes. */
  public static String jobPrefix(String tenant, String jobId) {
    return "tenants/" + tenant + "/jobs/" + jobId + "/";
  }

  public static String checkpointPrefix(Attempts.Attempt attempt, int step) {
    return attempt.prefix() + String.format("checkpoints/checkpoint-%06d/", step);
  }

  public static String adapterPrefix(String tenant, String adapterId) {
    return "tenants/" + tenant + "/adapters/" + adapterId + "/";
  }

  /**
   * Where an adapter's file has its PEFT-format counterpart, for adapters whose own format PEFT does not
   * load (NOLA: stored as the plain LoRA it equals): beside it, under {@code peft/}.
   */
  public static String peftExportKey(String adapterFileKey) {
    int slash = adapterFileKey.lastIndexOf('/');
    return adapterFileKey.substring(0, slash + 1) + "peft/" + adapterFileKey.substring(slash + 1);
  }

  /** Everything of one merge: its attempts and their outcomes. */
  public static String mergePrefix(String tenant, String mergeId) {
    return "tenants/" + tenant + "/merges/" + mergeId + "/";
  }

  /** The part of a key after the last '/'. */
  public static String fileName(String key) {
    return key.substring(key.lastIndexOf('/') + 1);
  }
}

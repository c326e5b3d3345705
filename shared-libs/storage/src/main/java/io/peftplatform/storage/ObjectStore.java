package io.peftplatform.storage;

import io.minio.BucketExistsArgs;
import io.minio.GetObjectArgs;
import io.minio.GetPresignedObjectUrlArgs;
import io.minio.ListObjectsArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import io.minio.RemoveObjectArgs;
import io.minio.Result;
import io.minio.StatObjectArgs;
import io.minio.errors.ErrorResponseException;
import io.minio.errors.InvalidResponseException;
import io.minio.errors.ServerException;
import io.minio.http.Method;
import io.minio.messages.Item;
import io.peftplatform.events.ObjectRef;
import io.smallrye.faulttolerance.api.Guard;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The platform's bucket: objects written with their SHA-256 computed on the way, read back verified,
 * listed, deleted and shared by presigned URL. Every call rides out a server that is away or overloaded
 * (refused or lost connections, timeouts, 5xx, SlowDown): it is retried with exponential backoff for up
 * to {@link StorageConfig#retryFor()}, then fails. Answers that will not change (no such key, access
 * denied) fail at once.
 */
public final class ObjectStore {
  private static final Logger LOG = Logger.getLogger(ObjectStore.class.getName());
  /** Multipart part size for streams of unknown length. */
  private static final long PART_SIZE = 16L * 1024 * 1024;
  /** S3 error codes that say "not now" rather than "never". */
  private static final Set<String> TRANSIENT_CODES = Set.of("InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout",
      "RequestTimeTooSkewed", "OperationAborted", "XMinioServerNotInitialized");

  private final Guard retries;
  private final MinioClient client;
  /** Signs URLs for the public endpoint; the region is fixed so signing never contacts that address. */
  private final MinioClient presigner;
  private final String bucket;

  public ObjectStore(StorageConfig config) {
    this.client = MinioClient.builder().endpoint(config.endpoint()).credentials(config.accessKey(), config.secretKey()).build();
    String publicEndpoint = config.publicEndpoint();
    this.presigner = publicEndpoint == null || publicEndpoint.isBlank() ? client
        : MinioClient.builder().endpoint(publicEndpoint).credentials(config.accessKey(), config.secretKey())
            .region(config.region() == null || config.region().isBlank() ? "us-east-1" : config.region()).build();
    this.bucket = config.bucket();
    Duration window = config.retryFor() == null ? StorageConfig.DEFAULT_RETRY_FOR : config.retryFor();
    this.retries = Guard.create()
        .withRetry().maxRetries(-1).maxDuration(Math.max(1, window.toMillis()), ChronoUnit.MILLIS)
        .delay(200, ChronoUnit.MILLIS).jitter(100, ChronoUnit.MILLIS).whenException(ObjectStore::isTransient)
        .beforeRetry(e -> LOG.log(Level.WARNING, "object storage: " + e.getMessage() + "; retrying"))
        .withExponentialBackoff().factor(2).maxDelay(Math.max(1, Math.min(10_000, window.toMillis() / 2)), ChronoUnit.MILLIS).done()
        .done()
        .build();
  }

  /**
   * Whether a failure may pass on its own: a network error on the way (refused, reset, timed out), a 5xx
   * answer, or an S3 error code that means the server is busy or starting.
   */
  public static boolean isTransient(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof ServerException || c instanceof InvalidResponseException) {
        return true;
      }
      if (c instanceof ErrorResponseException r) {
        return TRANSIENT_CODES.contains(r.errorResponse().code()) || r.response() != null && r.response().code() >= 500;
      }
      if (c instanceof java.net.SocketException || c instanceof java.io.InterruptedIOException
          || c instanceof java.net.UnknownHostException || c instanceof java.io.EOFException
          || (c instanceof IOException && c.getClass().getName().startsWith("okhttp3"))
          || (c instanceof IOException && String.valueOf(c.getMessage()).startsWith("unexpected end of stream"))) {
        return !Thread.currentThread().isInterrupted();
      }
    }
    return false;
  }

  /** A store over the configured bucket, created if missing: what a service starts with. */
  public static ObjectStore withBucket(StorageConfig config) {
    ObjectStore store = new ObjectStore(config);
    store.ensureBucket();
    return store;
  }

  public String bucket() {
    return bucket;
  }

  /** Creates the bucket unless it exists. */
  public void ensureBucket() {
    call("create bucket " + bucket, () -> {
      if (!client.bucketExists(BucketExistsArgs.builder().bucket(bucket).build())) {
        client.makeBucket(MakeBucketArgs.builder().bucket(bucket).build());
      }
      return null;
    });
  }

  /** Uploads a file (read afresh on each attempt); returns its reference with the SHA-256 of what was sent. */
  public ObjectRef put(String key, Path file) {
    return call("upload " + key, () -> {
      try (InputStream in = Files.newInputStream(file)) {
        return upload(key, in, Files.size(file));
      }
    });
  }

  /**
   * Uploads a stream (size −1 when unknown); returns its reference with the SHA-256 of what was sent. A
   * stream that can be reset (a byte array's) is retried like any call; any other gets one attempt.
   */
  public ObjectRef put(String key, InputStream in, long size) {
    if (!in.markSupported()) {
      return once("upload " + key, () -> upload(key, in, size));
    }
    in.mark(Integer.MAX_VALUE);
    return call("upload " + key, () -> {
      in.reset();
      return upload(key, in, size);
    });
  }

  private ObjectRef upload(String key, InputStream in, long size) throws Exception {
    MessageDigest digest = sha256();
    CountingDigestStream counted = new CountingDigestStream(in, digest);
    client.putObject(PutObjectArgs.builder().bucket(bucket).object(key).stream(counted, size, size < 0 ? PART_SIZE : -1).build());
    return new ObjectRef(key, HexFormat.of().formatHex(digest.digest()), counted.count);
  }

  /** Downloads an object to a file (written beside it first, then moved into place). */
  public void get(String key, Path target) {
    Path tmp = target.resolveSibling(target.getFileName() + ".part");
    call("download " + key, () -> {
      Files.createDirectories(target.toAbsolutePath().getParent());
      try (InputStream in = client.getObject(GetObjectArgs.builder().bucket(bucket).object(key).build())) {
        Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
      }
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return null;
    });
  }

  /** Downloads and checks the SHA-256; a mismatch deletes the file and fails. */
  public void get(ObjectRef ref, Path target) {
    get(ref.key(), target);
    String actual = sha256(target);
    if (!actual.equals(ref.sha256())) {
      try {
        Files.deleteIfExists(target);
      } catch (IOException ignored) {
        // the failure below is what matters
      }
      throw new StorageException(ref.key() + ": SHA-256 is " + actual + ", expected " + ref.sha256());
    }
  }

  /** A small object as UTF-8 text. */
  public String readText(String key) {
    try (InputStream in = open(key)) {
      return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new StorageException("cannot read " + key + ": " + e.getMessage(), e);
    }
  }

  /** A small object as UTF-8 text, when it exists. */
  public Optional<String> readTextIfPresent(String key) {
    return size(key).map(n -> readText(key));
  }

  public InputStream open(String key) {
    return call("read " + key, () -> client.getObject(GetObjectArgs.builder().bucket(bucket).object(key).build()));
  }

  /** The object's size, when it exists. */
  public Optional<Long> size(String key) {
    return call("stat " + key, () -> {
      try {
        return Optional.of(client.statObject(StatObjectArgs.builder().bucket(bucket).object(key).build()).size());
      } catch (ErrorResponseException e) {
        if ("NoSuchKey".equals(e.errorResponse().code()) || "NoSuchObject".equals(e.errorResponse().code())) {
          return Optional.empty();
        }
        throw e;
      }
    });
  }

  /** Keys under a prefix, recursively, sorted. */
  public List<String> list(String prefix) {
    return call("list " + prefix, () -> {
      List<String> keys = new ArrayList<>();
      for (Result<Item> r : client.listObjects(ListObjectsArgs.builder().bucket(bucket).prefix(prefix).recursive(true).build())) {
        keys.add(r.get().objectName());
      }
      keys.sort(null);
      return keys;
    });
  }

  public void delete(String key) {
    call("delete " + key, () -> {
      client.removeObject(RemoveObjectArgs.builder().bucket(bucket).object(key).build());
      return null;
    });
  }

  public void deletePrefix(String prefix) {
    for (String key : list(prefix)) {
      delete(key);
    }
  }

  /** A URL anyone can GET the object from until it expires. */
  public String presignedGet(String key, Duration ttl) {
    return call("presign " + key, () -> presigner.getPresignedObjectUrl(GetPresignedObjectUrlArgs.builder()
        .method(Method.GET).bucket(bucket).object(key).expiry((int) ttl.toSeconds()).build()));
  }

  public static String sha256(Path file) {
    MessageDigest digest = sha256();
    try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
      in.transferTo(java.io.OutputStream.nullOutputStream());
    } catch (IOException e) {
      throw new StorageException("cannot read " + file + ": " + e.getMessage(), e);
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private interface Call<T> {
    T run() throws Exception;
  }

  /** Runs the call, retrying transient failures within the window. */
  @SuppressWarnings("unchecked")
  private <T> T call(String what, Call<T> call) {
    try {
      return (T) retries.call(call::run, Object.class);
    } catch (StorageException e) {
      throw e;
    } catch (Exception e) {
      throw new StorageException("object storage: cannot " + what + ": " + e.getMessage(), e);
    }
  }

  /** Runs the call once (its input cannot be replayed). */
  private static <T> T once(String what, Call<T> call) {
    try {
      return call.run();
    } catch (StorageException e) {
      throw e;
    } catch (Exception e) {
      throw new StorageException("object storage: cannot " + what + ": " + e.getMessage(), e);
    }
  }

  /** Counts and digests the bytes read through it. */
  private static final class CountingDigestStream extends DigestInputStream {
    long count;

    CountingDigestStream(InputStream in, MessageDigest digest) {
      super(in, digest);
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        count++;
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      if (n > 0) {
        count += n;
      }
      return n;
    }
  }
}

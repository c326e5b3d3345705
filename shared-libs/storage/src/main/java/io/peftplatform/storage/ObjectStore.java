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
import io.minio.http.Method;
import io.minio.messages.Item;
import io.peftplatform.events.ObjectRef;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * The platform's bucket: objects written with their SHA-256 computed on the way, read back verified,
 * listed, deleted and shared by presigned URL.
 */
public final class ObjectStore {
  /** Multipart part size for streams of unknown length. */
  private static final long PART_SIZE = 16L * 1024 * 1024;

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

  /** Uploads a file; returns its reference with the SHA-256 of what was sent. */
  public ObjectRef put(String key, Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      return put(key, in, Files.size(file));
    } catch (IOException e) {
      throw new StorageException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /** Uploads a stream (size −1 when unknown); returns its reference with the SHA-256 of what was sent. */
  public ObjectRef put(String key, InputStream in, long size) {
    MessageDigest digest = sha256();
    CountingDigestStream counted = new CountingDigestStream(in, digest);
    call("upload " + key, () -> client.putObject(PutObjectArgs.builder().bucket(bucket).object(key)
        .stream(counted, size, size < 0 ? PART_SIZE : -1).build()));
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
    try {
      return Optional.of(client.statObject(StatObjectArgs.builder().bucket(bucket).object(key).build()).size());
    } catch (ErrorResponseException e) {
      if ("NoSuchKey".equals(e.errorResponse().code()) || "NoSuchObject".equals(e.errorResponse().code())) {
        return Optional.empty();
      }
      throw new StorageException("cannot stat " + key + ": " + e.getMessage(), e);
    } catch (Exception e) {
      throw new StorageException("cannot stat " + key + ": " + e.getMessage(), e);
    }
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

  private static <T> T call(String what, Call<T> call) {
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

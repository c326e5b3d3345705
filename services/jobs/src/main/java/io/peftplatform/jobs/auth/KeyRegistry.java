package io.peftplatform.jobs.auth;

import io.peftplatform.jobs.ApiKey;
import io.peftplatform.jobs.Tenant;
import io.peftplatform.jobs.config.JobsConfig;
import io.peftplatform.service.problem.ApiException;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * API keys: bearer tokens, each belonging to a tenant, stored as SHA-256. Lookups hit an in-memory map
 * (the gateway authenticates on the event loop), reloaded after every change and every few seconds so
 * replicas agree. On first start with no keys, an admin key is created and printed once.
 */
@ApplicationScoped
public class KeyRegistry {
  private static final Logger LOG = Logger.getLogger(KeyRegistry.class);
  private static final SecureRandom RANDOM = new SecureRandom();

  /** Who a key belongs to. */
  public record Principal(String keyId, String tenant, boolean admin) {}

  /** A key as created: the secret is shown only here. */
  public record CreatedKey(String id, String tenant, String name, boolean admin, String key) {}

  @Inject JobsConfig config;

  private volatile Map<String, Principal> byHash = Map.of();

  @Transactional
  void bootstrap(@Observes StartupEvent e) {
    if (ApiKey.count() == 0) {
      String given = config.adminKey().filter(k -> !k.isBlank()).orElse(null);
      CreatedKey admin = createKey("default", "admin", true, given);
      if (given == null) {
        LOG.infof("%nCreated the admin API key (shown once; keep it): %s%n", admin.key());
      } else {
        LOG.infof("Created the admin API key %s from PEFT_ADMIN_KEY", admin.id());
      }
    }
    reload();
  }

  @Scheduled(every = "5s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
  @Transactional
  void reload() {
    Map<String, Principal> map = new HashMap<>();
    for (ApiKey k : ApiKey.<ApiKey>listAll()) {
      map.put(k.keyHash, new Principal(k.id, k.tenant, k.admin));
    }
    byHash = Map.copyOf(map);
  }

  /** The principal of an {@code Authorization: Bearer …} header value, if the key is known. */
  public Optional<Principal> authenticate(String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return Optional.empty();
    }
    return Optional.ofNullable(byHash.get(hash(authorization.substring(7).trim())));
  }

  @Transactional
  public CreatedKey create(String tenant, String name, boolean admin) {
    if (tenant == null || !tenant.matches("[a-z0-9][a-z0-9-]{0,62}")) {
      throw ApiException.badRequest("tenant must be 1-63 lowercase letters, digits or dashes, starting with a letter or digit", "tenant");
    }
    CreatedKey k = createKey(tenant, name == null || name.isBlank() ? tenant : name, admin, null);
    reload();
    return k;
  }

  private CreatedKey createKey(String tenant, String name, boolean admin, String given) {
    if (Tenant.findById(tenant) == null) {
      Tenant t = new Tenant();
      t.id = tenant;
      t.createdAt = Instant.now();
      t.persist();
    }
    byte[] b = new byte[20];
    RANDOM.nextBytes(b);
    String key = given != null ? given : "peft-" + HexFormat.of().formatHex(b);
    ApiKey k = new ApiKey();
    RANDOM.nextBytes(b);
    k.id = "key-" + HexFormat.of().formatHex(b, 0, 12);
    k.tenant = tenant;
    k.name = name;
    k.keyHash = hash(key);
    k.admin = admin;
    k.createdAt = Instant.now();
    k.persist();
    return new CreatedKey(k.id, tenant, name, admin, key);
  }

  /** Every key (of one tenant, when given), oldest first. */
  @Transactional
  public List<ApiKey> list(String tenant) {
    return tenant == null ? ApiKey.list("order by createdAt, id") : ApiKey.list("tenant = ?1 order by createdAt, id", tenant);
  }

  /**
   * Revokes a key: it stops working here at once and on every replica within its reload interval. The
   * last admin key cannot be revoked (nobody could create keys after it).
   */
  @Transactional
  public ApiKey revoke(String id) {
    ApiKey k = ApiKey.<ApiKey>findByIdOptional(id).orElseThrow(() -> ApiException.notFound("no API key " + id, "id"));
    if (k.admin && ApiKey.count("admin", true) == 1) {
      throw new ApiException(409, "this is the last admin key: create another admin key before revoking it", "id");
    }
    k.delete();
    reload();
    return k;
  }

  static String hash(String key) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}

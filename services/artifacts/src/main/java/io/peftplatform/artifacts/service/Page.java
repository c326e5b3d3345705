package io.peftplatform.artifacts.service;

import io.peftplatform.service.problem.ApiException;
import io.quarkus.hibernate.orm.panache.Panache;
import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * A page of a tenant's resources, newest first, after a cursor (the id of the last item of the previous
 * page), as the OpenAI API pages its lists.
 */
public record Page<T>(List<T> items, boolean hasMore) {

  /** Where a page starts: after the item created at {@code createdAt} with this id (ties broken by id). */
  public record Cursor(Instant createdAt, String id) {}

  public static <T extends PanacheEntityBase> Page<T> of(Class<T> type, String tenant, String after, int limit,
      Function<T, Instant> created, Function<T, String> id) {
    checkLimit(limit);
    Cursor cursor = null;
    if (after != null && !after.isBlank()) {
      cursor = cursor(type, tenant, after, created, id)
          .orElseThrow(() -> ApiException.badRequest("no " + type.getSimpleName().toLowerCase() + " " + after + " to page after", "after"));
    }
    return page(rows(type, tenant, cursor, limit + 1), limit);
  }

  public static void checkLimit(int limit) {
    if (limit < 1 || limit > 100) {
      throw ApiException.badRequest("limit must be between 1 and 100, got " + limit, "limit");
    }
  }

  /** The first {@code limit} of {@code rows} (which holds up to one more, telling whether there are more). */
  public static <T> Page<T> page(List<T> rows, int limit) {
    boolean more = rows.size() > limit;
    return new Page<>(more ? rows.subList(0, limit) : rows, more);
  }

  /** The cursor at one of the tenant's own items: another tenant's id reads as one that does not exist. */
  public static <T extends PanacheEntityBase> Optional<Cursor> cursor(Class<T> type, String tenant, String id,
      Function<T, Instant> created, Function<T, String> idOf) {
    List<T> found = Panache.getEntityManager()
        .createQuery("FROM " + type.getSimpleName() + " WHERE id = :id AND tenant = :tenant", type)
        .setParameter("id", id).setParameter("tenant", tenant).getResultList();
    return found.stream().findFirst().map(t -> new Cursor(created.apply(t), idOf.apply(t)));
  }

  /** Up to {@code max} of the tenant's items after the cursor (from the newest when it is null), newest first. */
  public static <T extends PanacheEntityBase> List<T> rows(Class<T> type, String tenant, Cursor after, int max) {
    String entity = type.getSimpleName();
    var query = after == null
        ? Panache.getEntityManager().createQuery("FROM " + entity + " WHERE tenant = :tenant ORDER BY createdAt DESC, id DESC", type)
        : Panache.getEntityManager()
            .createQuery("FROM " + entity + " WHERE tenant = :tenant AND (createdAt < :c OR (createdAt = :c AND id < :id))"
                + " ORDER BY createdAt DESC, id DESC", type)
            .setParameter("c", after.createdAt()).setParameter("id", after.id());
    return query.setParameter("tenant", tenant).setMaxResults(max).getResultList();
  }
}

package io.peftplatform.artifacts.service;

import io.peftplatform.service.problem.ApiException;
import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import java.time.Instant;
import java.util.List;
import java.util.function.Function;

/**
 * A page of a tenant's resources, newest first, after a cursor (the id of the last item of the previous
 * page), as the OpenAI API pages its lists.
 */
public record Page<T>(List<T> items, boolean hasMore) {

  @SuppressWarnings("unchecked")
  public static <T extends PanacheEntityBase> Page<T> of(Class<T> type, String tenant, String after, int limit,
      Function<T, Instant> created, Function<T, String> id) {
    if (limit < 1 || limit > 100) {
      throw ApiException.badRequest("limit must be between 1 and 100, got " + limit, "limit");
    }
    String entity = type.getSimpleName();
    List<T> rows;
    if (after == null || after.isBlank()) {
      rows = (List<T>) io.quarkus.hibernate.orm.panache.Panache.getEntityManager()
          .createQuery("FROM " + entity + " WHERE tenant = :tenant ORDER BY createdAt DESC, id DESC", type)
          .setParameter("tenant", tenant).setMaxResults(limit + 1).getResultList();
    } else {
      // The cursor must be one of the tenant's own: another tenant's id reads as one that does not exist.
      List<T> found = (List<T>) io.quarkus.hibernate.orm.panache.Panache.getEntityManager()
          .createQuery("FROM " + entity + " WHERE id = :id AND tenant = :tenant", type)
          .setParameter("id", after).setParameter("tenant", tenant).getResultList();
      T cursor = found.isEmpty() ? null : found.get(0);
      if (cursor == null) {
        throw ApiException.badRequest("no " + entity.toLowerCase() + " " + after + " to page after", "after");
      }
      rows = (List<T>) io.quarkus.hibernate.orm.panache.Panache.getEntityManager()
          .createQuery("FROM " + entity + " WHERE tenant = :tenant AND (createdAt < :c OR (createdAt = :c AND id < :id))"
              + " ORDER BY createdAt DESC, id DESC", type)
          .setParameter("tenant", tenant).setParameter("c", created.apply(cursor)).setParameter("id", id.apply(cursor))
          .setMaxResults(limit + 1).getResultList();
    }
    boolean more = rows.size() > limit;
    return new Page<>(more ? rows.subList(0, limit) : rows, more);
  }
}

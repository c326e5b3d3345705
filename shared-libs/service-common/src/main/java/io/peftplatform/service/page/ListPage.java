package io.peftplatform.service.page;

import java.util.List;
import java.util.function.Function;

/**
 * Every list the API answers, in OpenAI's cursor-page shape: {@code data}, {@code has_more}, and the
 * ids of the first and last item ({@code last_id} is the {@code after} of the next page), as the SDKs'
 * auto-pagination reads it.
 */
public record ListPage<T>(String object, List<T> data, boolean hasMore, String firstId, String lastId) {

  /** A page of items and whether more follow, with the ids read off its ends. */
  public static <T> ListPage<T> of(List<T> data, boolean hasMore, Function<T, String> id) {
    return new ListPage<>("list", data, hasMore, data.isEmpty() ? null : id.apply(data.get(0)),
        data.isEmpty() ? null : id.apply(data.get(data.size() - 1)));
  }

  /** The first {@code limit} of rows fetched one beyond it (the extra one says there are more), mapped. */
  public static <E, T> ListPage<T> firstOf(List<E> rows, int limit, Function<E, T> map, Function<T, String> id) {
    boolean more = rows.size() > limit;
    return of((more ? rows.subList(0, limit) : rows).stream().map(map).toList(), more, id);
  }
}

package io.peftplatform.artifacts.service;

import io.peftplatform.artifacts.Adapter;
import io.peftplatform.artifacts.Model;
import io.peftplatform.service.problem.ApiException;
import io.peftplatform.service.problem.RequestValues;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * What {@code /v1/models} lists, as OpenAI's API does: every model a tenant can name in a request — its
 * base and merged models and its fine-tuned models (adapters, each on its base) — in one newest-first
 * cursor order over both registries.
 */
@ApplicationScoped
public class ModelCatalog {
  /** One entry: exactly one of the two is set. */
  public record Entry(Model model, Adapter adapter) {
    java.time.Instant createdAt() {
      return model != null ? model.createdAt : adapter.createdAt;
    }

    public String id() {
      return model != null ? model.id : adapter.id;
    }
  }

  static final Comparator<Entry> NEWEST_FIRST = Comparator.comparing(Entry::createdAt).thenComparing(Entry::id).reversed();

  public Page<Entry> list(String tenant, String after, int limit) {
    Page.checkLimit(limit);
    Page.Cursor cursor = null;
    if (after != null && !after.isBlank()) {
      cursor = Page.cursor(Model.class, tenant, after, (Model m) -> m.createdAt, m -> m.id)
          .or(() -> Page.cursor(Adapter.class, tenant, after, (Adapter a) -> a.createdAt, a -> a.id))
          .orElseThrow(() -> ApiException.badRequest("no model " + after + " to page after", "after"));
    }
    List<Entry> rows = new ArrayList<>();
    Page.rows(Model.class, tenant, cursor, limit + 1).forEach(m -> rows.add(new Entry(m, null)));
    Page.rows(Adapter.class, tenant, cursor, limit + 1).forEach(a -> rows.add(new Entry(null, a)));
    rows.sort(NEWEST_FIRST);
    return Page.page(rows.subList(0, Math.min(rows.size(), limit + 1)), limit);
  }

  /** A model by its name: a fine-tuned one by its adapter id or an OpenAI-style {@code ft:…:<adapter id>} name. */
  public Optional<Entry> find(String tenant, String name) {
    if (RequestValues.isFineTuned(name)) {
      return Adapter.<Adapter>find("id = ?1 and tenant = ?2", RequestValues.modelId(name), tenant).firstResultOptional().map(a -> new Entry(null, a));
    }
    return Model.<Model>find("id = ?1 and tenant = ?2", name, tenant).firstResultOptional().map(m -> new Entry(m, null));
  }
}

package io.peftplatform.jobs.service;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftplatform.events.ObjectRef;
import io.peftplatform.jobs.Job;
import io.peftplatform.training.spec.RunSpec;
import java.util.List;

/**
 * The JSON of a job's stored columns and of the events' file references: its own mapper, so what is
 * stored keeps its shape whatever the API's JSON naming becomes.
 */
public final class JobJson {
  static final ObjectMapper JSON = new ObjectMapper();

  private JobJson() {}

  static String write(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(e);
    }
  }

  static <T> T read(String json, TypeReference<T> type) {
    try {
      return JSON.readValue(json, type);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  public static List<ObjectRef> refs(String json) {
    return json == null ? List.of() : read(json, new TypeReference<List<ObjectRef>>() {});
  }

  static ObjectRef ref(String json) {
    return read(json, new TypeReference<ObjectRef>() {});
  }

  static RunSpec spec(Job job) {
    return read(job.spec, new TypeReference<RunSpec>() {});
  }
}

package io.peftplatform.service.problem;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import io.peftplatform.service.retry.Transient;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.ConstraintViolationException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * Every error a service answers is an RFC 7807 problem: the service's own refusals, bean-validation
 * failures (naming each field), unreadable JSON (naming the field where it broke), the framework's
 * 404/405/415, and — never for a user's input — a 500 without internals.
 */
public class ProblemMappers {
  private static final Logger LOG = Logger.getLogger(ProblemMappers.class);

  @ServerExceptionMapper
  public Response api(ApiException e) {
    return e.problem().toResponse();
  }

  @ServerExceptionMapper
  public Response validation(ConstraintViolationException e) {
    List<Problem.FieldError> errors = e.getConstraintViolations().stream()
        .sorted(Comparator.comparing(v -> v.getPropertyPath().toString()))
        .map(v -> new Problem.FieldError(field(v), v.getMessage(), null))
        .toList();
    String detail = errors.stream().map(f -> f.field() + ": " + f.message()).collect(Collectors.joining("; "));
    return new Problem("about:blank", "Bad Request", 400, detail, errors.isEmpty() ? null : errors.get(0).field(), errors).toResponse();
  }

  /** "create.request.hyperparameters.nEpochs" → the JSON path the user wrote: "hyperparameters.n_epochs". */
  static String field(ConstraintViolation<?> v) {
    String path = v.getPropertyPath().toString();
    String[] parts = path.split("\\.");
    int start = parts.length > 2 ? 2 : parts.length - 1; // drop the method and parameter names
    StringBuilder out = new StringBuilder();
    for (int i = Math.max(0, start); i < parts.length; i++) {
      if (out.length() > 0) {
        out.append('.');
      }
      out.append(snake(parts[i]));
    }
    return out.toString();
  }

  static String snake(String camel) {
    return camel.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase();
  }

  /** More specific than the framework's own mapper for it (which answers without a problem body). */
  @ServerExceptionMapper
  public Response mismatchedInput(com.fasterxml.jackson.databind.exc.MismatchedInputException e) {
    return json(e);
  }

  @ServerExceptionMapper
  public Response json(JsonProcessingException e) {
    String field = null;
    if (e instanceof JsonMappingException m && !m.getPath().isEmpty()) {
      field = m.getPath().stream()
          .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
          .collect(Collectors.joining(".")).replace(".[", "[");
    }
    String detail = "invalid JSON" + (field == null ? "" : " at '" + field + "'") + ": " + e.getOriginalMessage();
    if (e instanceof com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException u) {
      // Jackson's own message names the Java class; the client needs the fields it may send.
      detail = "unknown field; known: " + u.getKnownPropertyIds().stream().map(String::valueOf).sorted().collect(Collectors.joining(", "));
    }
    return Problem.of(400, detail.lines().findFirst().orElse(detail), field).toResponse();
  }

  @ServerExceptionMapper
  public Response web(WebApplicationException e) {
    Throwable cause = e.getCause();
    if (cause instanceof JsonProcessingException j) {
      return json(j);
    }
    int status = e.getResponse().getStatus();
    String detail = switch (status) {
      case 404 -> "no such resource";
      case 405 -> "method not allowed on this resource";
      case 406 -> "cannot produce the requested media type";
      case 415 -> "unsupported media type";
      default -> e.getMessage() == null ? Problem.title(status) : e.getMessage();
    };
    if (status == 400 && e.getMessage() != null) {
      detail = e.getMessage();
    }
    return Problem.of(status, detail, null).toResponse();
  }

  /**
   * A failure of what the service depends on (its database restarting, storage away) is not the client's
   * fault nor a bug: 503 with Retry-After, so clients try again. Anything else is a 500 without internals.
   */
  @ServerExceptionMapper
  public Response unexpected(Exception e) {
    if (Transient.is(e)) {
      LOG.warnf("unavailable: %s", e.getMessage());
      return Response.fromResponse(Problem.of(503, "temporarily unavailable (a backing service is restarting); retry shortly", null)
          .toResponse()).header("Retry-After", "5").build();
    }
    LOG.error("unexpected failure", e);
    return Problem.of(500, "internal error; it has been logged", null).toResponse();
  }
}

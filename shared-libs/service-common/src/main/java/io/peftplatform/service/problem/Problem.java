package io.peftplatform.service.problem;

import com.fasterxml.jackson.annotation.JsonInclude;
import jakarta.ws.rs.core.Response;
import java.util.List;

/**
 * An RFC 7807 problem document, served as {@code application/problem+json}. {@code field} names the
 * request field at fault (a JSON path such as {@code hyperparameters.n_epochs}); {@code errors} lists
 * several when there are (a dataset's bad lines, every violated constraint); {@code limit} names the
 * setting a too-large or too-many request passed.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Problem(String type, String title, int status, String detail, String field, List<FieldError> errors, Limit limit) {
  public static final String MEDIA_TYPE = "application/problem+json";

  public Problem(String type, String title, int status, String detail, String field, List<FieldError> errors) {
    this(type, title, status, detail, field, errors, null);
  }

  /** The configured limit a request passed (413, 429): its setting's name and value. */
  public record Limit(String name, long value) {}

  /** One field's problem; line is a 1-based line number for uploaded files, else null. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record FieldError(String field, String message, Long line) {}

  public static Problem of(int status, String detail, String field) {
    return new Problem("about:blank", title(status), status, detail, field, null);
  }

  public Response toResponse() {
    return Response.status(status).type(MEDIA_TYPE).entity(this).build();
  }

  static String title(int status) {
    Response.Status s = Response.Status.fromStatusCode(status);
    return s == null ? (status == 422 ? "Unprocessable Content" : "Error") : s.getReasonPhrase();
  }
}

package io.peftplatform.service.problem;

import java.util.List;

/** A request the service refuses: becomes a problem response with this status, detail and field. */
public class ApiException extends RuntimeException {
  private final int status;
  private final String field;
  private final List<Problem.FieldError> errors;

  public ApiException(int status, String detail, String field) {
    this(status, detail, field, null);
  }

  public ApiException(int status, String detail, String field, List<Problem.FieldError> errors) {
    super(detail);
    this.status = status;
    this.field = field;
    this.errors = errors;
  }

  public static ApiException badRequest(String detail, String field) {
    return new ApiException(400, detail, field);
  }

  public static ApiException notFound(String detail, String field) {
    return new ApiException(404, detail, field);
  }

  public static ApiException conflict(String detail) {
    return new ApiException(409, detail, null);
  }

  public Problem problem() {
    return new Problem("about:blank", Problem.title(status), status, getMessage(), field, errors);
  }
}

package io.peftplatform.service.problem;

import java.util.List;

/** A request the service refuses: becomes a problem response with this status, detail and field. */
public class ApiException extends RuntimeException {
  private final int status;
  private final String field;
  private final List<Problem.FieldError> errors;
  private final Problem.Limit limit;

  public ApiException(int status, String detail, String field) {
    this(status, detail, field, null);
  }

  public ApiException(int status, String detail, String field, List<Problem.FieldError> errors) {
    this(status, detail, field, errors, null);
  }

  private ApiException(int status, String detail, String field, List<Problem.FieldError> errors, Problem.Limit limit) {
    super(detail);
    this.status = status;
    this.field = field;
    this.errors = errors;
    this.limit = limit;
  }

  /** 413: the request (or the field's part of it) is larger than the setting {@code limitName} allows. */
  public static ApiException tooLarge(String detail, String field, String limitName, long limitValue) {
    return new ApiException(413, detail, field, null, new Problem.Limit(limitName, limitValue));
  }

  /** 429: the tenant has as many of something under way as the setting {@code limitName} allows. */
  public static ApiException tooMany(String detail, String field, String limitName, long limitValue) {
    return new ApiException(429, detail, field, null, new Problem.Limit(limitName, limitValue));
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
    return new Problem("about:blank", Problem.title(status), status, getMessage(), field, errors, limit);
  }
}

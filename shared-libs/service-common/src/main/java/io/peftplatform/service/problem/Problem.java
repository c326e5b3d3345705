package io.peftplatform.service.problem;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import jakarta.ws.rs.core.Response;
import java.util.List;

/**
 * An RFC 7807 problem document, served as {@code application/problem+json}. {@code field} names the
 * request field at fault (a JSON path such as {@code hyperparameters.n_epochs}); {@code errors} lists
 * several when there are (a dataset's bad lines, every violated constraint); {@code limit} names the
 * setting a too-large or too-many request passed. {@code error} says the same in OpenAI's envelope
 * ({@code message}, {@code type}, {@code param}, {@code code}), so OpenAI's SDKs read it too.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(value = "error", allowGetters = true)
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

  /** OpenAI's error object: what its SDKs show ({@code e.error.message}) and branch on. */
  @JsonInclude(JsonInclude.Include.ALWAYS)
  public record OpenAiError(String message, String type, String param, String code) {}

  @JsonProperty("error")
  public OpenAiError error() {
    String type = switch (status) {
      case 401 -> "authentication_error";
      case 403 -> "permission_error";
      case 404 -> "not_found_error";
      case 409 -> "conflict_error";
      case 429 -> "rate_limit_error";
      default -> status >= 500 ? "server_error" : "invalid_request_error";
    };
    String code = switch (status) {
      case 400 -> "invalid_request";
      case 401 -> "invalid_api_key";
      case 403 -> "forbidden";
      case 404 -> "not_found";
      case 405 -> "method_not_allowed";
      case 409 -> "conflict";
      case 411 -> "length_required";
      case 413 -> "request_too_large";
      case 415 -> "unsupported_media_type";
      case 429 -> "rate_limit_exceeded";
      case 503 -> "service_unavailable";
      default -> status >= 500 ? "internal_error" : "invalid_request";
    };
    return new OpenAiError(detail == null ? title : detail, type, field, code);
  }

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

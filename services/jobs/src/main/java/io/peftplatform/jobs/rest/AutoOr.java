package io.peftplatform.jobs.rest;

import com.fasterxml.jackson.databind.JsonNode;
import jakarta.validation.Constraint;
import jakarta.validation.ConstraintValidator;
import jakarta.validation.ConstraintValidatorContext;
import jakarta.validation.Payload;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * OpenAI's hyperparameters that may be {@code "auto"} (the platform chooses): the field is absent,
 * {@code null}, {@code "auto"}, or a number from {@code min} to {@code max} (an integer when
 * {@code integer}).
 */
@Target({ElementType.FIELD, ElementType.METHOD, ElementType.PARAMETER, ElementType.RECORD_COMPONENT})
@Retention(RetentionPolicy.RUNTIME)
@Constraint(validatedBy = AutoOr.Validator.class)
public @interface AutoOr {
  double min();

  double max();

  boolean integer() default false;

  String message() default "must be \"auto\" or a number in range";

  Class<?>[] groups() default {};

  Class<? extends Payload>[] payload() default {};

  final class Validator implements ConstraintValidator<AutoOr, JsonNode> {
    private AutoOr bounds;

    @Override
    public void initialize(AutoOr bounds) {
      this.bounds = bounds;
    }

    @Override
    public boolean isValid(JsonNode value, ConstraintValidatorContext context) {
      if (value == null || value.isNull() || (value.isTextual() && value.asText().equals("auto"))) {
        return true;
      }
      boolean ok = value.isNumber() && (!bounds.integer() || (value.isIntegralNumber() && value.canConvertToInt()))
          && value.asDouble() >= bounds.min() && value.asDouble() <= bounds.max();
      if (!ok) {
        context.disableDefaultConstraintViolation();
        String range = bounds.integer() ? "an integer from " + (long) bounds.min() + " to " + (long) bounds.max()
            : "a number from " + bounds.min() + " to " + bounds.max();
        context.buildConstraintViolationWithTemplate("must be \"auto\" or " + range).addConstraintViolation();
      }
      return ok;
    }

    /** The value chosen: the fallback for "auto" or nothing. */
    public static double value(JsonNode n, double fallback) {
      return n == null || n.isNull() || n.isTextual() ? fallback : n.asDouble();
    }
  }
}

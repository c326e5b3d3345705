package io.peftplatform.artifacts;

import io.restassured.RestAssured;
import io.restassured.config.EncoderConfig;
import io.restassured.config.RestAssuredConfig;
import io.restassured.http.ContentType;

/** RestAssured sends JSONL bodies as text. */
final class RestAssuredSetup {
  static final RestAssuredConfig CONFIG = RestAssured.config().encoderConfig(EncoderConfig.encoderConfig()
      .encodeContentTypeAs("application/jsonl", ContentType.TEXT)
      .encodeContentTypeAs("image/png", ContentType.BINARY));

  private RestAssuredSetup() {}
}

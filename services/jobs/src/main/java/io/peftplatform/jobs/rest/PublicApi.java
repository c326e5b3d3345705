package io.peftplatform.jobs.rest;

import jakarta.ws.rs.core.Application;
import org.eclipse.microprofile.openapi.annotations.OpenAPIDefinition;
import org.eclipse.microprofile.openapi.annotations.Components;
import org.eclipse.microprofile.openapi.annotations.enums.SecuritySchemeType;
import org.eclipse.microprofile.openapi.annotations.info.Info;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.security.SecurityScheme;

/** The public API's OpenAPI description: every operation takes an API key as a bearer token. */
@OpenAPIDefinition(
    info = @Info(title = "PEFT Platform API", version = "0.1.0",
        description = "Fine-tune Llama-family models with LoRA, DoRA, NOLA and Kronecker adapters."),
    security = @SecurityRequirement(name = "apiKey"),
    components = @Components(securitySchemes = @SecurityScheme(securitySchemeName = "apiKey", type = SecuritySchemeType.HTTP,
        scheme = "bearer", description = "An API key: `peft up` prints the admin key on first start; admins create keys with POST /v1/api-keys.")))
public class PublicApi extends Application {}

package io.peftplatform.cli.api;

import io.peftplatform.client.PeftClient;
import picocli.CommandLine.Option;

/** Where the API is and the key to call it with: options, or the PEFT_URL and PEFT_API_KEY environment variables. */
public final class ApiOptions {
  @Option(names = "--url", paramLabel = "URL", defaultValue = "${env:PEFT_URL:-http://localhost:8080}",
      description = "The platform's API (default ${DEFAULT-VALUE}; env PEFT_URL).")
  String url;

  @Option(names = "--api-key", paramLabel = "KEY", defaultValue = "${env:PEFT_API_KEY}",
      description = "API key (env PEFT_API_KEY; `peft up` prints the admin key on first start).")
  String apiKey;

  @Option(names = "--json", description = "Print the API's JSON instead of a table or summary.")
  boolean json;

  PeftClient client() {
    if (apiKey == null || apiKey.isBlank()) {
      throw new IllegalArgumentException("no API key: pass --api-key or set PEFT_API_KEY");
    }
    return new PeftClient(url, apiKey);
  }
}

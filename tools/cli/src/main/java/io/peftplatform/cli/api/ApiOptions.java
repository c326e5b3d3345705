package io.peftplatform.cli.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.peftplatform.client.PeftClient;
import java.util.function.Function;
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

  /** Calls the API once and prints its answer as JSON; the command's exit code. */
  int printJson(Function<PeftClient, JsonNode> call) {
    try (PeftClient c = client()) {
      Output.json(call.apply(c));
      return 0;
    }
  }

  /** Calls the API for a page of a list and prints it: a table of these fields, or with --json the JSON. */
  int printPage(Function<PeftClient, JsonNode> call, String... fields) {
    try (PeftClient c = client()) {
      JsonNode page = call.apply(c);
      if (json) {
        Output.json(page);
      } else {
        Output.table(page, fields);
      }
      return 0;
    }
  }
}

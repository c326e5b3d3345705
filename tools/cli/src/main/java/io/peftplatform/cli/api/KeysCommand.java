package io.peftplatform.cli.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.peftplatform.client.PeftClient;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "keys", description = "API keys (admin key required).", subcommands = {KeysCommand.Create.class})
public final class KeysCommand {
  @Command(name = "create", description = "Create an API key for a tenant; the key is printed once.")
  static final class Create implements Callable<Integer> {
    @Mixin ApiOptions api;

    @Option(names = "--tenant", required = true, description = "Lowercase letters, digits and dashes.")
    String tenant;

    @Option(names = "--name", description = "What the key is for.")
    String name;

    @Override
    public Integer call() {
      try (PeftClient c = api.client()) {
        JsonNode k = c.createApiKey(tenant, name);
        if (api.json) {
          Output.json(k);
        } else {
          Output.out().println(k.path("key").asText());
        }
        return 0;
      }
    }
  }
}

package io.peftplatform.cli.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.peftplatform.client.PeftClient;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "keys", description = "API keys (admin key required): create, list, revoke.",
    subcommands = {KeysCommand.Create.class, KeysCommand.List.class, KeysCommand.Revoke.class})
public final class KeysCommand {
  @Command(name = "list", description = "List API keys (never their secrets), of one tenant with --tenant.")
  static final class List implements Callable<Integer> {
    @Mixin ApiOptions api;

    @Option(names = "--tenant", description = "Only this tenant's keys.")
    String tenant;

    @Override
    public Integer call() {
      return api.printPage(c -> c.listApiKeys(tenant), "id", "tenant", "name", "admin", "created_at");
    }
  }

  @Command(name = "revoke", description = "Revoke an API key: requests with it are refused from then on.")
  static final class Revoke implements Callable<Integer> {
    @Mixin ApiOptions api;

    @Parameters(paramLabel = "ID", description = "The key's id (key-…), as keys list shows it.")
    String id;

    @Override
    public Integer call() {
      try (PeftClient c = api.client()) {
        c.revokeApiKey(id);
        Output.out().println("revoked " + id);
        return 0;
      }
    }
  }

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

package io.peftplatform.cli.api;

import picocli.CommandLine.Option;

/** A list's page: how many, and after which id. */
public final class Paging {
  @Option(names = "--limit", defaultValue = "20", description = "At most this many (default ${DEFAULT-VALUE}).")
  int limit;

  @Option(names = "--after", paramLabel = "ID", description = "Start after this id (the previous page's last).")
  String after;
}

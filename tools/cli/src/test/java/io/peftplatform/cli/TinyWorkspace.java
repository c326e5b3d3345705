package io.peftplatform.cli;

import static io.peftplatform.cli.PeftCliTest.peft;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A tiny model made by peft init-model and a learnable prompt/completion file, for CLI tests. */
record TinyWorkspace(Path model, Path data) {
  static final ObjectMapper JSON = new ObjectMapper();

  static TinyWorkspace create(Path dir) throws Exception {
    Path model = dir.resolve("m");
    assertThat(peft("init-model", "--preset", "tiny", "--output", model.toString()).exitCode()).isZero();
    Path data = dir.resolve("train.jsonl");
    List<String> lines = new ArrayList<>();
    String[] words = "the river ran past the old mill where the wheel still turned".split(" ");
    for (int i = 0; i < 24; i++) {
      lines.add(JSON.writeValueAsString(Map.of("prompt", "after " + words[i % words.length] + " comes",
          "completion", " " + words[(i + 1) % words.length])));
    }
    Files.write(data, lines);
    return new TinyWorkspace(model, data);
  }

  /** peft eval's loss on the data, for the model with the given extra arguments (e.g. --adapter DIR). */
  static double loss(Path model, Path data, String... extra) throws Exception {
    List<String> args = new ArrayList<>(List.of("eval", "--model", model.toString(), "--data", data.toString()));
    args.addAll(List.of(extra));
    PeftCliTest.Run r = peft(args.toArray(String[]::new));
    assertThat(r.exitCode()).as(r.err()).isZero();
    return JSON.readTree(r.lastLine()).get("loss").asDouble();
  }
}

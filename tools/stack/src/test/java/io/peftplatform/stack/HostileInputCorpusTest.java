package io.peftplatform.stack;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peftplatform.client.PeftClient;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A corpus of hostile requests across every endpoint of the public API — wrong shapes and types, unknown
 * fields, huge and negative numbers, traversal names, oversize values, malformed JSON and JSONL, corrupt
 * archives, another tenant's ids — each sent to the real stack. Every one must be refused with a 4xx
 * application/problem+json naming the field at fault (where one is), never a 5xx, and nothing may be
 * stored because of it.
 */
class HostileInputCorpusTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  static String key;
  static String otherKey;
  static PeftClient client;
  static String model;
  static String dataset;
  static String othersModel;

  /** One hostile request and what its refusal must name (null: no particular field). */
  record Case(String name, String method, String path, String contentType, byte[] body, String field, String auth) {}

  static final List<Case> CASES = new ArrayList<>();

  @BeforeAll
  static void setUp() {
    key = RunningStack.tenantKey("e2e-hostile");
    otherKey = RunningStack.tenantKey("e2e-hostile-other");
    client = new PeftClient(RunningStack.get().url(), key);
    model = client.uploadModel(RunningStack.tinyModel(), "tiny").path("id").asText();
    assertThat(RunningStack.ready(client, model).path("status").asText()).isEqualTo("ready");
    dataset = client.uploadDataset(DemoContent.dataset(), "ok.jsonl").path("id").asText();
    try (PeftClient other = new PeftClient(RunningStack.get().url(), otherKey)) {
      othersModel = other.uploadModel(RunningStack.tinyModel(), "theirs").path("id").asText();
      RunningStack.ready(other, othersModel);
    }
    buildCorpus();
  }

  @AfterAll
  static void close() {
    client.close();
  }

  static void json(String name, String method, String path, String body, String field) {
    // A control character anywhere in the URI is refused by the gateway before any field is looked at.
    if (path.contains("%00")) {
      field = null;
    }
    CASES.add(new Case(name, method, path, "application/json", body == null ? null : body.getBytes(StandardCharsets.UTF_8), field, null));
  }

  static void raw(String name, String method, String path, String contentType, byte[] body, String field) {
    CASES.add(new Case(name, method, path, contentType, body, field, null));
  }

  static void as(String auth, String name, String method, String path, String body) {
    CASES.add(new Case(name, method, path, "application/json", body == null ? null : body.getBytes(StandardCharsets.UTF_8), null, auth));
  }

  /** A job request with one part replaced (a JSON fragment spliced in). */
  static String job(String extra) {
    return "{\"model\": \"" + model + "\", \"training_file\": \"" + dataset + "\"" + (extra.isEmpty() ? "" : ", " + extra) + "}";
  }

  static String merge(String extra) {
    return "{\"model\": \"" + model + "\", \"adapters\": [\"adapter-nope\"]" + (extra.isEmpty() ? "" : ", " + extra) + "}";
  }

  static final String[] BAD_VALUES = {"-1", "1e20", "\"abc\"", "true", "[]", "{}"};
  static final String[] BAD_IDS = {"\"\"", "5", "null", "[]", "\"../../etc/passwd\"", "\"" + "x".repeat(300) + "\"", "\"model-nope\"",
      "\"file-nope\""};

  static void buildCorpus() {
    String jobs = "/v1/fine_tuning/jobs";
    // Bodies that are not a job request at all.
    for (String body : new String[] {"{", "", "[]", "null", "42", "\"job\"", "{\"model\": }", "{'model': 1}", "\u0000",
        "[".repeat(5000) + "]".repeat(5000), "{\"model\": " + "9".repeat(5000) + "}"}) {
      json("jobs: body " + abbreviate(body), "POST", jobs, body, null);
    }
    for (String f : new String[] {"foo", "training_files", "hyperparameter", "Model", "__proto__"}) {
      json("jobs: unknown field " + f, "POST", jobs, job("\"" + f + "\": 1"), f);
    }
    for (String v : BAD_IDS) {
      json("jobs: model " + abbreviate(v), "POST", jobs, "{\"model\": " + v + ", \"training_file\": \"" + dataset + "\"}", "model");
      json("jobs: training_file " + abbreviate(v), "POST", jobs, "{\"model\": \"" + model + "\", \"training_file\": " + v + "}",
          v.equals("null") ? "training_file" : "training_file");
    }
    json("jobs: another tenant's model", "POST", jobs, "{\"model\": \"" + othersModel + "\", \"training_file\": \"" + dataset + "\"}", "model");
    json("jobs: validation_file not a file id", "POST", jobs, job("\"validation_file\": \"model-x\""), "validation_file");
    json("jobs: validation_file unknown", "POST", jobs, job("\"validation_file\": \"file-nope\""), "validation_file");
    // The objective (OpenAI's method) and the adapter (this platform's extension), with their settings.
    json("jobs: method a string", "POST", jobs, job("\"method\": \"supervised\""), "method");
    json("jobs: method a list", "POST", jobs, job("\"method\": []"), "method");
    json("jobs: method.type a number", "POST", jobs, job("\"method\": {\"type\": 5}"), "method.type");
    json("jobs: method.type unknown", "POST", jobs, job("\"method\": {\"type\": \"lora\"}"), "method.type");
    json("jobs: method.type reinforcement", "POST", jobs, job("\"method\": {\"type\": \"reinforcement\"}"), "method.type");
    json("jobs: dpo on supervised records", "POST", jobs, job("\"method\": {\"type\": \"dpo\", \"dpo\": {}}"), "training_file");
    json("jobs: method.supervised with dpo", "POST", jobs, job("\"method\": {\"type\": \"dpo\", \"supervised\": {}}"), "method.supervised");
    json("jobs: beta for supervised", "POST", jobs,
        job("\"method\": {\"type\": \"supervised\", \"supervised\": {\"hyperparameters\": {\"beta\": 0.1}}}"),
        "method.supervised.hyperparameters.beta");
    for (String v : BAD_VALUES) {
      json("jobs: dpo beta " + v, "POST", jobs, job("\"method\": {\"type\": \"dpo\", \"dpo\": {\"hyperparameters\": {\"beta\": " + v + "}}}"),
          "method.dpo.hyperparameters.beta");
    }
    json("jobs: dpo packing", "POST", jobs, job("\"method\": {\"type\": \"dpo\", \"dpo\": {\"hyperparameters\": {\"packing\": true}}}"),
        "method.dpo.hyperparameters.packing");
    json("jobs: method.supervised a number", "POST", jobs, job("\"method\": {\"type\": \"supervised\", \"supervised\": 3}"), "method.supervised");
    json("jobs: method.dpo with supervised", "POST", jobs, job("\"method\": {\"type\": \"supervised\", \"dpo\": {}}"), "method.dpo");
    json("jobs: hyperparameters twice", "POST", jobs, job("\"hyperparameters\": {}, \"method\": {\"supervised\": {\"hyperparameters\": {}}}"),
        "hyperparameters");
    json("jobs: learning_rate and its multiplier", "POST", jobs,
        job("\"method\": {\"supervised\": {\"hyperparameters\": {\"learning_rate\": 1e-3, \"learning_rate_multiplier\": 2}}}"),
        "method.supervised.hyperparameters.learning_rate_multiplier");
    json("jobs: adapter a string", "POST", jobs, job("\"adapter\": \"lora\""), "adapter");
    json("jobs: adapter.type unknown", "POST", jobs, job("\"adapter\": {\"type\": \"qlora\"}"), "adapter.type");
    for (String[] p : new String[][] {{"rank", "0"}, {"rank", "-4"}, {"rank", "1e9"}, {"rank", "\"8\""}, {"rank", "8.5"},
        {"alpha", "-1"}, {"alpha", "1e300"}, {"alpha", "\"a\""}, {"dropout", "1.5"}, {"dropout", "-0.1"}, {"dropout", "[]"},
        {"target_modules", "[\"evil\"]"}, {"target_modules", "\"\""}, {"target_modules", "7"}, {"target_modules", "[\"../q_proj\"]"},
        {"use_rslora", "\"yes\""}, {"use_rslora", "1"}, {"rnak", "8"}}) {
      json("jobs: adapter." + p[0] + " " + p[1], "POST", jobs, job("\"adapter\": {\"type\": \"lora\", \"" + p[0] + "\": " + p[1] + "}"),
          "adapter." + p[0]);
    }
    json("jobs: adapter.num_bases 0", "POST", jobs, job("\"adapter\": {\"type\": \"nola\", \"num_bases\": 0}"), "adapter.num_bases");
    json("jobs: adapter.factor 0", "POST", jobs, job("\"adapter\": {\"type\": \"kronecker\", \"factor\": 0}"), "adapter.factor");
    json("jobs: adapter.use_rslora for dora a string", "POST", jobs, job("\"adapter\": {\"type\": \"dora\", \"use_rslora\": \"x\"}"),
        "adapter.use_rslora");
    json("jobs: adapter.num_bases for lora", "POST", jobs, job("\"adapter\": {\"type\": \"lora\", \"num_bases\": 4}"), "adapter.num_bases");
    // Every hyperparameter, with values none of them takes.
    for (String h : new String[] {"n_epochs", "max_steps", "learning_rate", "batch_size", "gradient_accumulation_steps", "warmup_steps",
        "max_seq_len", "weight_decay", "max_grad_norm", "checkpoint_every", "eval_every", "early_stopping_patience"}) {
      for (String v : BAD_VALUES) {
        json("jobs: hyperparameters." + h + " " + v, "POST", jobs, job("\"hyperparameters\": {\"" + h + "\": " + v + "}"), "hyperparameters." + h);
      }
    }
    json("jobs: hyperparameters a list", "POST", jobs, job("\"hyperparameters\": [1]"), "hyperparameters");
    json("jobs: lr_scheduler unknown", "POST", jobs, job("\"hyperparameters\": {\"lr_scheduler\": \"warp\"}"), "hyperparameters.lr_scheduler");
    json("jobs: train_on_inputs a string", "POST", jobs, job("\"hyperparameters\": {\"train_on_inputs\": \"yes\"}"), "hyperparameters.train_on_inputs");
    json("jobs: unknown hyperparameter", "POST", jobs, job("\"hyperparameters\": {\"lerning_rate\": 1}"), "hyperparameters.lerning_rate");
    for (String v : new String[] {"\"x\"", "1.5", "1e30", "[]"}) {
      json("jobs: seed " + v, "POST", jobs, job("\"seed\": " + v), "seed");
    }
    for (String v : new String[] {"\"" + "s".repeat(100) + "\"", "\"../x\"", "5", "\"a b\""}) {
      json("jobs: suffix " + abbreviate(v), "POST", jobs, job("\"suffix\": " + v), "suffix");
    }
    json("jobs: metadata a list", "POST", jobs, job("\"metadata\": []"), "metadata");
    json("jobs: metadata a number value", "POST", jobs, job("\"metadata\": {\"k\": 5}"), "metadata.k");
    StringBuilder many = new StringBuilder("{");
    for (int i = 0; i < 17; i++) {
      many.append(i == 0 ? "" : ",").append("\"k").append(i).append("\": \"v\"");
    }
    json("jobs: metadata with 17 keys", "POST", jobs, job("\"metadata\": " + many + "}"), "metadata");
    json("jobs: metadata value too long", "POST", jobs, job("\"metadata\": {\"k\": \"" + "v".repeat(600) + "\"}"), "metadata.k");
    raw("jobs: text/plain body", "POST", jobs, "text/plain", job("").getBytes(StandardCharsets.UTF_8), null);
    raw("jobs: JSON over the size limit", "POST", jobs, "application/json",
        job("\"suffix\": \"" + "x".repeat(2 << 20) + "\"").getBytes(StandardCharsets.UTF_8), null);
    // Job reads with bad parameters and ids.
    for (String q : new String[] {"limit=0", "limit=-1", "limit=101", "limit=abc", "limit=1e99", "status=bogus", "after=ftjob-nope",
        "after=..%2F..%2Fetc"}) {
      json("jobs list ?" + q, "GET", jobs + "?" + q, null, q.substring(0, q.indexOf('=')));
    }
    for (String id : new String[] {"nope", "ftjob-nope", "..%2F..%2Fetc%2Fpasswd", "x".repeat(300), "%00"}) {
      for (String sub : new String[] {"", "/events", "/checkpoints"}) {
        json("job " + abbreviate(id) + sub, "GET", jobs + "/" + id + sub, null, "id");
      }
      json("cancel " + abbreviate(id), "POST", jobs + "/" + id + "/cancel", null, "id");
    }
    json("events ?limit=0", "GET", jobs + "/ftjob-nope/events?limit=0", null, null);
    json("job PUT", "PUT", jobs, job(""), null);
    json("job DELETE", "DELETE", jobs + "/ftjob-nope", null, null);

    // Models.
    String models = "/v1/models";
    for (String v : new String[] {"null", "5", "\"\"", "\"ftp://x/y\"", "\"http://example.com/m.tar\"", "\"file:///etc/passwd\"",
        "\"https://127.0.0.1/m.tar\"", "\"https://169.254.169.254/latest/meta-data/\"", "\"https://[::1]/m\"", "\"https://10.1.2.3/m\"",
        "\"s3://peft/tenants/e2e-hostile-other/models/" + othersModel + "/\"", "\"s3://peft/\"", "\"s3://other-bucket/m/\"",
        "\"hf://no-slash\"", "\"hf://a/b c\"", "\"" + "h".repeat(1100) + "\"", "\"s3://peft/tenants/e2e-hostile/../e2e-hostile-other/\""}) {
      json("models: source " + abbreviate(v), "POST", models, "{\"source\": " + v + "}", "source");
    }
    json("models: no source", "POST", models, "{}", "source");
    json("models: unknown field", "POST", models, "{\"source\": \"hf://a/b\", \"revision\": \"x\"}", "revision");
    json("models: name too long", "POST", models, "{\"source\": \"hf://a/b\", \"name\": \"" + "n".repeat(300) + "\"}", "name");
    json("models: name a number", "POST", models, "{\"source\": \"hf://a/b\", \"name\": 5}", "name");
    json("models: not JSON", "POST", models, "{\"source\": ", null);
    for (String file : new String[] {"../config.json", "evil.sh", ".hidden.json", "a/b.safetensors", "config.json\u0000.sh", "x".repeat(300) + ".json"}) {
      raw("models: upload named " + abbreviate(file), "POST", models, "multipart/form-data; boundary=XyZ", multipart("file", file, "{}"), "file");
    }
    raw("models: archive that is not one", "POST", models, "multipart/form-data; boundary=XyZ", multipart("archive", "m.tar", "garbage"), "archive");
    raw("models: no files", "POST", models, "multipart/form-data; boundary=XyZ", "--XyZ--\r\n".getBytes(StandardCharsets.UTF_8), "file");
    raw("models: image/png", "POST", models, "image/png", new byte[] {1, 2, 3}, null);
    for (String q : new String[] {"limit=0", "limit=1000", "limit=x", "after=model-nope", "after=" + othersModel}) {
      json("models list ?" + q, "GET", models + "?" + q, null, q.substring(0, q.indexOf('=')));
    }
    for (String id : new String[] {"model-nope", othersModel, "..%2Fx", "%00"}) {
      json("model GET " + abbreviate(id), "GET", models + "/" + id, null, "id");
      json("model DELETE " + abbreviate(id), "DELETE", models + "/" + id, null, "id");
    }

    // Datasets.
    String datasets = "/v1/files";
    for (String[] c : new String[][] {{"empty", ""}, {"blank lines", "\n\n\n"}, {"not JSON", "not json\n"}, {"a list", "[1, 2]\n"},
        {"no known form", "{\"input\": \"x\"}\n"}, {"text a number", "{\"text\": 5}\n"}, {"empty completion", "{\"prompt\": \"a\", \"completion\": \"\"}\n"},
        {"mixed forms", "{\"text\": \"a\"}\n{\"prompt\": \"p\", \"completion\": \"c\"}\n"},
        {"messages not a list", "{\"messages\": 5}\n"}, {"bad role", "{\"messages\": [{\"role\": \"bot\", \"content\": \"x\"}]}\n"},
        {"no assistant", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}\n"},
        {"content a number", "{\"messages\": [{\"role\": \"assistant\", \"content\": 1}]}\n"},
        {"two forms in one line", "{\"text\": \"a\", \"prompt\": \"b\", \"completion\": \"c\"}\n"}}) {
      raw("datasets: " + c[0], "POST", datasets + "?name=bad.jsonl", "application/jsonl", c[1].getBytes(StandardCharsets.UTF_8), "file");
    }
    raw("datasets: invalid UTF-8", "POST", datasets, "application/jsonl", new byte[] {'{', (byte) 0xff, (byte) 0xfe, '}', '\n'}, "file");
    raw("datasets: name too long", "POST", datasets + "?name=" + "n".repeat(300), "application/jsonl",
        "{\"text\": \"a\"}\n".getBytes(StandardCharsets.UTF_8), "name");
    raw("datasets: multipart without a file", "POST", datasets, "multipart/form-data; boundary=XyZ",
        "--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nx\r\n--XyZ--\r\n".getBytes(StandardCharsets.UTF_8), "file");
    raw("files: purpose assistants", "POST", datasets + "?name=a.jsonl&purpose=assistants", "application/jsonl",
        "{\"text\": \"a\"}\n".getBytes(StandardCharsets.UTF_8), "purpose");
    raw("datasets: application/zip", "POST", datasets, "application/zip", new byte[] {'P', 'K', 3, 4}, null);
    for (String id : new String[] {"file-nope", dataset.replace("file-", "model-"), "..%2F..", "%00"}) {
      json("dataset GET " + abbreviate(id), "GET", datasets + "/" + id, null, "id");
      json("dataset DELETE " + abbreviate(id), "DELETE", datasets + "/" + id, null, "id");
    }
    json("datasets list ?limit=0", "GET", datasets + "?limit=0", null, "limit");
    json("datasets list ?after=file-nope", "GET", datasets + "?after=file-nope", null, "after");

    // Adapters.
    for (String id : new String[] {"adapter-nope", "..%2F..%2Fx", "%00", "a".repeat(300)}) {
      for (String sub : new String[] {"", "/content", "/files"}) {
        json("adapter " + abbreviate(id) + sub, "GET", "/v1/adapters/" + id + sub, null, "id");
      }
      json("adapter DELETE " + abbreviate(id), "DELETE", "/v1/adapters/" + id, null, "id");
    }
    json("adapters list ?limit=-5", "GET", "/v1/adapters?limit=-5", null, "limit");

    // Merges.
    String merges = "/v1/merges";
    for (String body : new String[] {"{", "[]", "null", "7"}) {
      json("merges: body " + body, "POST", merges, body, null);
    }
    json("merges: unknown field", "POST", merges, merge("\"wieght\": 1"), "wieght");
    json("merges: no model", "POST", merges, "{\"adapters\": [\"adapter-x\"]}", "model");
    json("merges: model a number", "POST", merges, "{\"model\": 5, \"adapters\": [\"adapter-x\"]}", "model");
    json("merges: another tenant's model", "POST", merges, "{\"model\": \"" + othersModel + "\", \"adapters\": [\"adapter-x\"]}", "model");
    json("merges: no adapters", "POST", merges, "{\"model\": \"" + model + "\"}", "adapters");
    json("merges: adapters empty", "POST", merges, "{\"model\": \"" + model + "\", \"adapters\": []}", "adapters");
    json("merges: adapters an object", "POST", merges, "{\"model\": \"" + model + "\", \"adapters\": {}}", "adapters");
    StringBuilder seventeen = new StringBuilder("[");
    for (int i = 0; i < 17; i++) {
      seventeen.append(i == 0 ? "" : ",").append("\"adapter-").append(i).append("\"");
    }
    json("merges: 17 adapters", "POST", merges, "{\"model\": \"" + model + "\", \"adapters\": " + seventeen + "]}", "adapters");
    json("merges: unknown adapter", "POST", merges, merge(""), "adapters[0].id");
    json("merges: adapter id empty", "POST", merges, "{\"model\": \"" + model + "\", \"adapters\": [{\"id\": \"\"}]}", "adapters[0].id");
    json("merges: adapter unknown field", "POST", merges, "{\"model\": \"" + model + "\", \"adapters\": [{\"id\": \"a\", \"w\": 1}]}",
        "adapters[0].w");
    for (String[] p : new String[][] {{"method", "\"slerp\""}, {"method", "5"}, {"density", "0"}, {"density", "2"}, {"density", "\"x\""},
        {"seed", "\"x\""}, {"seed", "1.5"}, {"name", "\"" + "n".repeat(300) + "\""}, {"name", "\"\""}, {"name", "[]"},
        {"output", "{\"type\": \"lora\"}"}, {"output", "{\"type\": \"adapter\"}"}, {"output", "{\"type\": \"adapter\", \"rank\": 0}"},
        {"output", "{\"type\": \"adapter\", \"rank\": 99999}"}, {"output", "{\"type\": \"model\", \"rnak\": 1}"},
        {"output", "5"}}) {
      String expected = switch (p[0]) {
        case "output" -> p[1].equals("5") ? "output" : p[1].contains("rnak") ? "output.rnak" : p[1].contains("lora") ? "output.type" : "output.rank";
        default -> p[0];
      };
      // The request's own form is checked before the registry: these fail on the field, not on the unknown adapter.
      json("merges: " + p[0] + " " + abbreviate(p[1]), "POST", merges, "{\"model\": \"" + model + "\", \"adapters\": [\"adapter-nope\"], \""
          + p[0] + "\": " + p[1] + "}", expected);
    }
    json("merges list ?limit=0", "GET", merges + "?limit=0", null, "limit");
    json("merge GET unknown", "GET", merges + "/merge-nope", null, "id");

    // Inference: completions and chat.
    String completions = "/v1/completions";
    String chat = "/v1/chat/completions";
    json("completions: no model", "POST", completions, "{\"prompt\": \"hi\"}", "model");
    json("completions: no prompt", "POST", completions, "{\"model\": \"" + model + "\"}", "prompt");
    json("completions: adapter_files given", "POST", completions, "{\"model\": \"" + model + "\", \"prompt\": \"hi\", \"adapter_files\": []}",
        "adapter_files");
    json("completions: model_files given", "POST", completions, "{\"model\": \"" + model + "\", \"prompt\": \"hi\", \"model_files\": [{\"key\": "
        + "\"../x\", \"sha256\": \"../../y\", \"bytes\": 1}]}", "model_files");
    json("completions: unknown model", "POST", completions, "{\"model\": \"model-nope\", \"prompt\": \"hi\"}", "model");
    json("completions: another tenant's model", "POST", completions, "{\"model\": \"" + othersModel + "\", \"prompt\": \"hi\"}", "model");
    json("completions: unknown adapter", "POST", completions, "{\"model\": \"adapter-nope\", \"prompt\": \"hi\"}", "model");
    json("completions: ft: name of nothing", "POST", completions, "{\"model\": \"ft:x:y:adapter-nope\", \"prompt\": \"hi\"}", "model");
    json("completions: a path as model", "POST", completions, "{\"model\": \"../../etc/passwd\", \"prompt\": \"hi\"}", "model");
    for (String[] p : new String[][] {{"max_tokens", "0"}, {"max_tokens", "-1"}, {"max_tokens", "1000000"},
        {"max_tokens", "\"many\""}, {"temperature", "-1"}, {"temperature", "3"}, {"temperature", "\"hot\""}, {"top_p", "2"}, {"top_p", "-0.5"},
        {"seed", "\"x\""}, {"prompt", "[]"}, {"prompt", "[1]"}, {"prompt", "\"\""}, {"n", "0"}, {"n", "100"}, {"stop", "5"},
        {"stop", "[\"a\", \"b\", \"c\", \"d\", \"e\"]"}, {"stop", "[\"\"]"}, {"echo", "true"}, {"suffix", "\"x\""}, {"logprobs", "5"},
        {"frequency_penalty", "1"}, {"best_of", "3"}, {"stream", "\"yes\""}, {"tools", "[]"}}) {
      json("completions: " + p[0] + " " + p[1], "POST", completions,
          "{\"model\": \"" + model + "\", \"prompt\": \"hi\", \"" + p[0] + "\": " + p[1] + "}", p[0]);
    }
    json("chat: no messages", "POST", chat, "{\"model\": \"" + model + "\"}", "messages");
    json("chat: empty messages", "POST", chat, "{\"model\": \"" + model + "\", \"messages\": []}", "messages");
    json("chat: a message without a role", "POST", chat, "{\"model\": \"" + model + "\", \"messages\": [{\"content\": \"hi\"}]}",
        "messages[0].role");
    json("chat: a message without content", "POST", chat, "{\"model\": \"" + model + "\", \"messages\": [{\"role\": \"user\"}]}",
        "messages[0].content");
    json("chat: an image part", "POST", chat, "{\"model\": \"" + model + "\", \"messages\": [{\"role\": \"user\", \"content\": "
        + "[{\"type\": \"image_url\", \"image_url\": {\"url\": \"http://169.254.169.254/\"}}]}]}", "messages[0].content[0]");
    json("chat: an unknown role", "POST", chat, "{\"model\": \"" + model + "\", \"messages\": [{\"role\": \"wizard\", \"content\": \"hi\"}]}",
        "messages[0].role");
    json("chat: both token limits", "POST", chat, "{\"model\": \"" + model + "\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], "
        + "\"max_tokens\": 2, \"max_completion_tokens\": 2}", "max_tokens");
    json("chat: logprobs", "POST", chat, "{\"model\": \"" + model + "\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], "
        + "\"logprobs\": true}", "logprobs");
    json("chat: tools", "POST", chat, "{\"model\": \"" + model + "\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], "
        + "\"tools\": []}", "tools");
    json("chat: another tenant's model", "POST", chat, "{\"model\": \"" + othersModel + "\", \"messages\": [{\"role\": \"user\", "
        + "\"content\": \"hi\"}]}", "model");

    // Keys: a tenant's key may not manage keys; an admin's malformed requests are refused too.
    as(key, "keys: create as a tenant", "POST", "/v1/api-keys", "{\"tenant\": \"x\"}");
    as(key, "keys: list as a tenant", "GET", "/v1/api-keys", null);
    as(key, "keys: revoke as a tenant", "DELETE", "/v1/api-keys/key-nope", null);
    String admin = RunningStack.get().adminKey();
    CASES.add(new Case("keys: tenant an object", "POST", "/v1/api-keys", "application/json", "{\"tenant\": {}}".getBytes(), "tenant", admin));
    CASES.add(new Case("keys: tenant upper case", "POST", "/v1/api-keys", "application/json", "{\"tenant\": \"ACME\"}".getBytes(), "tenant", admin));
    CASES.add(new Case("keys: tenant too long", "POST", "/v1/api-keys", "application/json", ("{\"tenant\": \"" + "t".repeat(70) + "\"}").getBytes(),
        "tenant", admin));
    CASES.add(new Case("keys: unknown field", "POST", "/v1/api-keys", "application/json", "{\"tenant\": \"t\", \"role\": \"root\"}".getBytes(),
        "role", admin));
    CASES.add(new Case("keys: revoke unknown", "DELETE", "/v1/api-keys/key-nope", "application/json", null, "id", admin));

    // Control characters, which PostgreSQL refuses outright: never let through to it.
    json("jobs: model with a NUL", "POST", jobs, "{\"model\": \"model-\\u0000x\", \"training_file\": \"" + dataset + "\"}", "model");
    json("jobs: training_file with a newline", "POST", jobs, "{\"model\": \"" + model + "\", \"training_file\": \"file-\\nx\"}",
        "training_file");
    json("models: name with a NUL", "POST", models, "{\"source\": \"hf://a/b\", \"name\": \"a\\u0000b\"}", "name");
    json("merges: name with a NUL", "POST", merges, merge("\"name\": \"a\\u0000b\""), "name");
    json("merges: model with a NUL", "POST", merges, "{\"model\": \"model-\\u0000\", \"adapters\": [\"a\"]}", "model");
    json("merges: adapter with a tab", "POST", merges, "{\"model\": \"" + model + "\", \"adapters\": [\"adapter-\\tx\"]}",
        "adapters[0].id");
    json("completions: model with a NUL", "POST", completions, "{\"model\": \"model-\\u0000\", \"prompt\": \"hi\"}", "model");
    raw("datasets: name with a NUL in the query", "POST", datasets + "?name=a%00b", "application/jsonl",
        "{\"text\": \"a\"}\n".getBytes(StandardCharsets.UTF_8), null);
    raw("datasets: file name with a NUL", "POST", datasets, "multipart/form-data; boundary=XyZ",
        multipart("file", "d\u0000.jsonl", "{\"text\": \"a\"}\n"), "file");
    raw("models: name with a NUL in a form field", "POST", models, "multipart/form-data; boundary=XyZ",
        ("--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\na\u0000b\r\n" + new String(multipart("file", "config.json", "{}"),
            StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8), "name");
    json("job with a NUL in the path", "GET", jobs + "/ftjob-%00", null, null);
    json("jobs list with a NUL in the query", "GET", jobs + "?after=%00", null, null);
    CASES.add(new Case("keys: name with a NUL", "POST", "/v1/api-keys", "application/json", "{\"tenant\": \"t\", \"name\": \"a\\u0000\"}".getBytes(),
        "name", admin));

    // Authentication.
    as("", "no key", "GET", jobs, null);
    as("not-a-key", "unknown key", "GET", models, null);
    as("Basic dXNlcjpwYXNz", "basic auth", "GET", datasets, null);
    as("peft-" + "0".repeat(40), "a key that looks right", "GET", "/v1/adapters", null);
    json("no such route", "GET", "/v1/nothing-here", null, null);
  }

  static byte[] multipart(String field, String filename, String content) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    String head = "--XyZ\r\nContent-Disposition: form-data; name=\"" + field + "\"; filename=\"" + filename + "\"\r\n"
        + "Content-Type: application/octet-stream\r\n\r\n";
    out.writeBytes(head.getBytes(StandardCharsets.UTF_8));
    out.writeBytes(content.getBytes(StandardCharsets.UTF_8));
    out.writeBytes("\r\n--XyZ--\r\n".getBytes(StandardCharsets.UTF_8));
    return out.toByteArray();
  }

  static String abbreviate(String s) {
    String one = s.replace("\n", "\\n").replace("\u0000", "\\0");
    return one.length() > 40 ? one.substring(0, 37) + "…" : one;
  }

  @Test
  void everyHostileRequestIsRefusedWithAProblemNamingTheFieldAndNothingIsStored() throws Exception {
    assertThat(CASES.size()).as("the corpus").isGreaterThanOrEqualTo(200);
    Map<String, String> failures = new TreeMap<>();
    Map<Integer, Integer> statuses = new TreeMap<>();
    for (Case c : CASES) {
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(RunningStack.get().url() + c.path())).timeout(Duration.ofMinutes(2))
          .method(c.method(), c.body() == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(c.body()));
      if (c.contentType() != null && c.body() != null) {
        b.header("Content-Type", c.contentType());
      }
      String auth = c.auth() == null ? key : c.auth();
      if (!auth.isEmpty()) {
        b.header("Authorization", auth.startsWith("Basic ") ? auth : "Bearer " + auth);
      }
      HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
      statuses.merge(r.statusCode(), 1, Integer::sum);
      String problem = null;
      if (r.statusCode() < 400 || r.statusCode() > 499) {
        problem = "answered " + r.statusCode() + ": " + abbreviate(r.body());
      } else if (!r.headers().firstValue("Content-Type").orElse("").startsWith("application/problem+json")) {
        problem = "content type " + r.headers().firstValue("Content-Type").orElse("none") + ": " + abbreviate(r.body());
      } else {
        JsonNode body = JSON.readTree(r.body());
        if (body.path("status").asInt() != r.statusCode() || body.path("detail").asText().isEmpty()) {
          problem = "not a problem document: " + abbreviate(r.body());
        } else if (c.field() != null && !c.field().equals(body.path("field").asText(null))) {
          problem = "named field " + body.path("field").asText(null) + ", not " + c.field() + " (" + abbreviate(body.path("detail").asText()) + ")";
        } else if (!body.path("error").path("message").asText().equals(body.path("detail").asText())
            || !body.path("error").path("type").isTextual() || !body.path("error").path("code").isTextual()
            || !java.util.Objects.equals(body.path("error").path("param").asText(null), body.path("field").asText(null))) {
          problem = "no OpenAI error envelope matching the problem: " + abbreviate(r.body());
        }
      }
      if (problem != null) {
        failures.put(c.name(), problem);
      }
    }
    System.out.println("hostile-input corpus: " + CASES.size() + " requests, answered " + statuses);
    assertThat(failures).as("requests not refused as they should be").isEmpty();

    // Nothing was stored because of them.
    assertThat(client.listModels(null, 100).path("data")).extracting(m -> m.path("id").asText()).containsExactly(model);
    assertThat(client.listDatasets(null, 100).path("data")).extracting(d -> d.path("id").asText()).containsExactly(dataset);
    assertThat(client.listJobs(null, null, 100).path("data")).isEmpty();
    assertThat(client.listMerges(null, 100).path("data")).isEmpty();
    assertThat(client.listAdapters(null, 100).path("data")).isEmpty();
  }
}

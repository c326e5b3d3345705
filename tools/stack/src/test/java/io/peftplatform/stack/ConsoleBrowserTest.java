package io.peftplatform.stack;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peftplatform.client.PeftClient;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;

/**
 * The web console in a real Chromium against the running stack, as a new user meets it: log in by key,
 * upload a model and a dataset, start a job through the form (after the form's and the API's errors
 * shown at their fields), watch its page until it succeeds with a point on the loss chart for every
 * metrics event, download the adapter, try it beside the base model, merge two adapters, manage keys as
 * an admin, log out. Every page is photographed at 1280 and 800 px (target/console-screenshots); a
 * failing test keeps a screenshot of where it stopped.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleBrowserTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String TENANT = "e2e-console";
  static Browser browser;
  static PeftClient client;
  static String key;
  static String modelId;
  static String jobId;
  static String adapterId;

  @RegisterExtension
  final TestWatcher keepsItsScreenshot = new TestWatcher() {
    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
      if (browser != null) {
        browser.screenshot("failed-" + context.getRequiredTestMethod().getName());
      }
    }
  };

  @BeforeAll
  static void start() {
    Browser.requireInstalled();
    key = RunningStack.tenantKey(TENANT);
    client = new PeftClient(RunningStack.get().url(), key);
    browser = Browser.start(RunningStack.scratch("console"));
  }

  @AfterEach
  void noScriptFailed() {
    assertThat(browser.scriptErrors()).as("errors in the browser's console").isEmpty();
  }

  @AfterAll
  static void stop() {
    if (browser != null) {
      browser.close();
    }
    if (client != null) {
      client.close();
    }
  }

  static String url(String fragment) {
    return RunningStack.get().url() + "/" + fragment;
  }

  /**
   * Both widths of the page now shown, then back to 1280. At 800 px the page still fits: only a table
   * may scroll sideways, inside its own box, never the whole page.
   */
  static void photograph(String page) {
    browser.screenshot(page + "-1280");
    browser.width(800);
    RunningStack.sleep(300);
    browser.screenshot(page + "-800");
    Number overflow = (Number) browser.js("return document.documentElement.scrollWidth - document.documentElement.clientWidth");
    assertThat(overflow.intValue()).as(page + " scrolls sideways at 800 px").isLessThanOrEqualTo(0);
    browser.width(1280);
  }

  /** The page's load figures (ms from navigation start): a figure to print, never a test. */
  static Object loadTiming() {
    return browser.js("const n = performance.getEntriesByType('navigation')[0];"
        + "return {domContentLoaded: Math.round(n.domContentLoadedEventEnd), load: Math.round(n.loadEventEnd)}");
  }

  /** Every input, select and textarea on the page has an accessible name (a label or aria-label). */
  static void everyControlIsLabelled(String page) {
    @SuppressWarnings("unchecked")
    List<String> unlabelled = (List<String>) browser.js("return [...document.querySelectorAll('input,select,textarea')]"
        + ".filter(e => e.type !== 'hidden' && !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))"
        + ".map(e => e.outerHTML)");
    assertThat(unlabelled).as("controls without a label on " + page).isEmpty();
  }

  @Test
  @Order(1)
  void aKeyLogsInByKeyboardAndAnUnknownOneIsRefusedAtItsField() {
    browser.open(url(""));
    WebElement keyField = browser.field("API key");
    Object timing = loadTiming();
    System.out.println("[console] first visit (nothing cached): " + timing + " ms");
    photograph("login");
    everyControlIsLabelled("login");
    keyField.sendKeys("peft-not-a-key", Keys.ENTER);
    assertThat(browser.errorAt("api_key")).contains("not known");
    keyField.sendKeys(Keys.chord(Keys.CONTROL, "a"), Keys.DELETE);
    keyField.sendKeys(key, Keys.ENTER); // the keyboard alone: type, Enter
    browser.find("nav[aria-label='Pages']");
    assertThat(browser.js("return sessionStorage.getItem('peft.apiKey')")).isEqualTo(key);
    assertThat(browser.all("nav a").stream().map(WebElement::getText)).doesNotContain("Keys"); // not an admin
    // Tab reaches the navigation; the focused element is outlined.
    browser.driver.switchTo().activeElement().sendKeys(Keys.TAB);
    assertThat(browser.js("return getComputedStyle(document.activeElement).outlineStyle")).isNotEqualTo("none");
  }

  @Test
  @Order(2)
  void aModelUploadedThroughTheModelsPageBecomesReady() throws Exception {
    browser.open(url("#/models"));
    // A Hugging Face snapshot as users have it: the model's files beside a README and a cache folder,
    // which the page leaves out (the API would refuse them).
    Path snapshot = RunningStack.scratch("console").resolve("snapshot");
    Files.createDirectories(snapshot.resolve(".cache"));
    try (Stream<Path> s = Files.list(RunningStack.tinyModel())) {
      for (Path p : s.toList()) {
        Files.copy(p, snapshot.resolve(p.getFileName().toString()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
    }
    Files.writeString(snapshot.resolve("README.md"), "# a model card\n");
    Files.writeString(snapshot.resolve(".cache").resolve("lock"), "");
    browser.select("What", "a Hugging Face directory");
    browser.field("Directory").sendKeys(snapshot.toAbsolutePath().toString());
    assertThat(browser.find("small.hint").getText()).contains("left out").contains("README.md");
    browser.fill("Name", "console tiny");
    browser.click("Upload model");
    WebElement row = browser.waitFor(d -> browser.all("tr[data-model]").stream().filter(r -> r.getText().contains("console tiny")
        && r.getText().contains("ready")).findFirst().orElse(null), Duration.ofMinutes(2), "the uploaded model ready");
    modelId = row.getAttribute("data-model");
    assertThat(row.getText()).contains("LlamaForCausalLM");
    // An import the API refuses (a loopback address: no requests into the cluster) says why at its field.
    browser.fill("Source", "https://127.0.0.1/model.tar.gz");
    browser.click("Import model");
    assertThat(browser.errorAt("source")).contains("loopback");
    everyControlIsLabelled("models");
    photograph("models");
  }

  @Test
  @Order(3)
  void aDatasetUploadShowsItsRowsAndPreviewAndABadFileItsLines() throws Exception {
    browser.open(url("#/datasets"));
    Path bad = RunningStack.scratch("console").resolve("bad.jsonl");
    Files.writeString(bad, "{\"text\": \"fine\"}\nnot json\n{\"text\": \"fine\"}\n{\"nothing\": 1}\n");
    browser.field("JSONL file").sendKeys(bad.toAbsolutePath().toString());
    browser.click("Upload");
    String errors = browser.find(".line-errors").getText();
    assertThat(errors).contains("line 2").contains("line 4");
    photograph("datasets-bad-file");

    browser.field("JSONL file").sendKeys(FineTuningFlowTest.opposites().toAbsolutePath().toString());
    browser.click("Upload");
    String ok = browser.find(".ok").getText();
    long rows = Files.readAllLines(FineTuningFlowTest.opposites()).stream().filter(l -> !l.isBlank()).count();
    assertThat(ok).contains("opposites.jsonl").contains(rows + " rows");
    assertThat(browser.find(".preview").getText()).contains("First rows of opposites.jsonl");
    everyControlIsLabelled("datasets");
    photograph("datasets");
  }

  @Test
  @Order(4)
  void theNewJobFormShowsItsOwnAndTheApisErrorsAtTheFieldThenStartsTheJob() {
    browser.open(url("#/new-job"));
    browser.select("Model", "console tiny");
    browser.select("Training dataset", "opposites.jsonl");
    browser.select("Method", "LoRA");
    browser.fill("Rank (r)", "four");
    browser.click("Start training");
    assertThat(browser.errorAt("rank")).isEqualTo("must be a whole number");
    assertThat(browser.driver.switchTo().activeElement().getAttribute("name")).isEqualTo("rank"); // focus moved to it

    browser.fill("Rank (r)", "4");
    browser.fill("Target modules", "q_proj,no_such_proj");
    browser.click("Start training");
    assertThat(browser.errorAt("target_modules")).contains("no_such_proj"); // the API's refusal, at its field
    photograph("new-job-error");

    // The method's fields change with the method.
    browser.select("Method", "NOLA");
    assertThat(browser.field("Random bases per factor").getAttribute("value")).isEqualTo("64");
    browser.select("Method", "Kronecker");
    assertThat(browser.all("[data-field='num_bases']")).isEmpty();
    browser.select("Method", "LoRA");

    browser.fill("Target modules", "all-linear");
    browser.fill("Epochs", "4");
    browser.fill("Learning rate", "0.01");
    browser.fill("Batch size", "10");
    browser.fill("Seed", "31");
    assertThat(browser.js("return document.querySelector('.cli-command').textContent")).asString().contains("--model " + modelId)
        .contains("--rank 4").contains("--epochs 4");
    everyControlIsLabelled("new-job");
    photograph("new-job");
    browser.click("Start training");
    WebElement page = browser.find("section[data-job]");
    jobId = page.getAttribute("data-job");
    assertThat(jobId).startsWith("ftjob-");
  }

  @Test
  @Order(5)
  void theJobPageDrawsEveryMetricsEventOnTheLossChartUntilTheJobSucceeds() {
    browser.open(url("#/jobs/" + jobId));
    browser.waitFor(d -> "succeeded".equals(browser.find("section[data-job]").getAttribute("data-status")) ? true : null,
        RunningStack.JOB_TIMEOUT, "the job succeeded");
    int metrics = 0;
    for (JsonNode e : allEvents(jobId)) {
      metrics += e.path("type").asText().equals("metrics") ? 1 : 0;
    }
    assertThat(metrics).isPositive();
    int finalMetrics = metrics;
    browser.waitFor(d -> Integer.parseInt(browser.find(".chart-box").getAttribute("data-points")) >= finalMetrics ? true : null,
        Duration.ofSeconds(20), "the chart holds a point per metrics event");
    assertThat(browser.all(".u-wrap canvas")).isNotEmpty(); // uPlot drew it
    // The log is the job's event stream (its own poll), the status the job's: one may show the end before the other.
    browser.waitFor(d -> browser.find(".event-log").getText().contains("succeeded") ? true : null, Duration.ofSeconds(20),
        "the event log's last event");
    JsonNode job = client.getJob(jobId);
    adapterId = job.path("fine_tuned_model").asText();
    assertThat(browser.find(".result").getText()).contains(adapterId);
    assertThat(browser.find(".hyperparameters").getText()).contains("learning_rate").contains("0.01");
    assertThat(browser.find(".adapter-settings dt:nth-of-type(2)").getText()).isEqualTo("rank");
    assertThat(browser.find(".adapter-settings dd:nth-of-type(2)").getText()).isEqualTo("4");
    browser.js("document.querySelector('.commands').open = true");
    assertThat(browser.find(".curl-command").getText()).contains("/v1/fine_tuning/jobs").contains(modelId);
    photograph("job");
  }

  @Test
  @Order(6)
  void theAdapterDownloadsInPeftsFormat() throws Exception {
    browser.click("Download adapter");
    Path tarGz = browser.downloads.resolve(adapterId + ".tar.gz");
    browser.waitFor(d -> Files.exists(tarGz) && sizeOf(tarGz) > 0 ? true : null, Duration.ofSeconds(30), "the download");
    List<String> names = new ArrayList<>();
    try (InputStream in = Files.newInputStream(tarGz);
        TarArchiveInputStream tar = new TarArchiveInputStream(new GzipCompressorInputStream(in))) {
      for (var e = tar.getNextEntry(); e != null; e = tar.getNextEntry()) {
        names.add(e.getName().substring(e.getName().indexOf('/') + 1));
      }
    }
    assertThat(names).contains("adapter_config.json", "adapter_model.safetensors");
  }

  @Test
  @Order(7)
  void tryItStreamsTheAdaptersAnswerBesideTheBaseModels() {
    browser.click("Try it");
    browser.find("section[data-adapter='" + adapterId + "']");
    browser.select("Mode", "plain completion");
    browser.fill("Max tokens", "6");
    browser.fill("Prompt", "hot is the opposite of");
    browser.click("Generate");
    for (String which : List.of("adapter", "base")) {
      browser.waitFor(d -> "true".equals(browser.find("[data-answer='" + which + "']").getAttribute("data-done")) ? true : null,
          Duration.ofMinutes(2), "the " + which + " answer");
    }
    ObjectNode request = JSON.createObjectNode().put("prompt", "hot is the opposite of").put("max_tokens", 6).put("temperature", 0.0);
    String adapterText = client.completion(request.deepCopy().put("model", adapterId)).at("/choices/0/text").asText();
    String baseText = client.completion(request.deepCopy().put("model", modelId)).at("/choices/0/text").asText();
    // What was streamed is what the API answers in one piece (greedy decoding).
    assertThat(browser.find("[data-answer='adapter'] output").getAttribute("textContent")).isEqualTo(adapterText);
    assertThat(browser.find("[data-answer='base'] output").getAttribute("textContent")).isEqualTo(baseText);
    assertThat(browser.find(".lineage").getText()).contains(modelId).contains(jobId);
    everyControlIsLabelled("adapter");
    photograph("adapter");
    browser.open(url("#/adapters"));
    browser.find("tr[data-adapter='" + adapterId + "']");
    photograph("adapters");
  }

  @Test
  @Order(8)
  void twoAdaptersMergeIntoAModelThroughTheMergesPage() {
    ObjectNode second = JSON.createObjectNode().put("model", modelId).put("training_file", datasetId()).put("seed", 5);
    second.putObject("adapter").put("type", "dora").put("rank", 4);
    second.putObject("hyperparameters").put("n_epochs", 2).put("learning_rate", 1e-2).put("batch_size", 10);
    JsonNode job = client.awaitJob(client.createJob(second).path("id").asText(), RunningStack.JOB_TIMEOUT);
    assertThat(job.path("status").asText()).as(job.toString()).isEqualTo("succeeded");
    String other = job.path("fine_tuned_model").asText();

    browser.open(url("#/merges"));
    browser.select("Model", "console tiny");
    browser.click("Merge");
    assertThat(browser.errorAt("adapters")).contains("at least one adapter");
    for (String a : List.of(adapterId, other)) {
      browser.find("#pick-" + a).click();
    }
    browser.fill("Weight of " + other, "0.5");
    browser.select("Method", "TIES");
    browser.fill("Density", "0.7");
    browser.fill("Name", "console merge");
    everyControlIsLabelled("merges");
    browser.click("Merge");
    WebElement row = browser.waitFor(d -> browser.all("tr[data-merge]").stream().filter(r -> r.getText().contains("console merge")
        && r.getText().contains("succeeded")).findFirst().orElse(null), RunningStack.JOB_TIMEOUT, "the merge succeeded");
    String mergeId = row.getAttribute("data-merge");
    JsonNode merge = client.getMerge(mergeId);
    assertThat(merge.path("method").asText()).isEqualTo("ties");
    assertThat(merge.path("density").asDouble()).isEqualTo(0.7);
    assertThat(merge.path("adapters").findValues("weight").stream().map(JsonNode::asDouble).toList()).containsExactly(1.0, 0.5);
    assertThat(row.getText()).contains(merge.path("output_id").asText());

    // Whole models by a mergekit configuration: the API's refusal shown at the field, then a fold that succeeds.
    browser.find("details.merge-config summary").click();
    browser.fill("Configuration (mergekit YAML)", "{merge_method: frankenmerge, models: [{model: " + modelId + "}]}");
    browser.click("Merge models");
    assertThat(browser.errorAt("config")).contains("unknown method 'frankenmerge'");
    browser.fill("Configuration (mergekit YAML)", "{merge_method: task_arithmetic, base_model: " + modelId + ", models: [{model: "
        + modelId + "+" + adapterId + ", parameters: {weight: 0.5}}]}");
    browser.fill("Merged model's name", "console mergekit");
    everyControlIsLabelled("merges");
    browser.click("Merge models");
    WebElement kit = browser.waitFor(d -> browser.all("tr[data-merge]").stream().filter(r -> r.getText().contains("console mergekit")
        && r.getText().contains("succeeded")).findFirst().orElse(null), RunningStack.JOB_TIMEOUT, "the mergekit merge succeeded");
    assertThat(kit.getText()).contains("task_arithmetic").contains("mergekit configuration");
    assertThat(client.getMerge(kit.getAttribute("data-merge")).path("config").asText()).contains(adapterId);

    // Learned: Expert Merging of both adapters, each on the texts it was trained on; the API's refusal at a
    // setting, then a run followed to its last step; a long one stopped from its row.
    String texts = client.getDataset(datasetId()).path("filename").asText();
    pickForExpertMerging(texts, adapterId, other);
    browser.fill("Steps", "0");
    browser.fill("Chunks per module", "2");
    browser.fill("Name", "console learned");
    everyControlIsLabelled("merges");
    browser.click("Merge");
    assertThat(browser.errorAt("steps")).contains("must be in [1, 10000]");
    browser.fill("Steps", "6");
    browser.click("Merge");
    WebElement learned = browser.waitFor(d -> browser.all("tr[data-merge]").stream().filter(r -> r.getText().contains("console learned")
        && r.getText().contains("succeeded")).findFirst().orElse(null), RunningStack.JOB_TIMEOUT, "the learned merge succeeded");
    assertThat(learned.getText()).contains("expert_merging").contains("6 steps, 2 chunks").contains("step 6/6");
    JsonNode learnedMerge = client.getMerge(learned.getAttribute("data-merge"));
    assertThat(learnedMerge.path("adapters").findValuesAsText("calibration_file")).containsExactly(datasetId(), datasetId());

    pickForExpertMerging(texts, adapterId, other);
    browser.fill("Steps", "10000");
    browser.fill("Name", "console long");
    browser.click("Merge");
    WebElement running = browser.waitFor(d -> browser.all("tr[data-merge]").stream().filter(r -> r.getText().contains("console long")
        && r.getText().contains("running")).findFirst().orElse(null), RunningStack.JOB_TIMEOUT, "the long learned merge running");
    String longId = running.getAttribute("data-merge");
    photograph("merges");
    browser.find("button[aria-label='Cancel " + longId + "']").click();
    browser.waitFor(d -> browser.find("tr[data-merge='" + longId + "']").getText().contains("cancelled") ? true : null,
        RunningStack.JOB_TIMEOUT, "the long learned merge cancelled");
  }

  /** Expert Merging on the merges page, the adapters picked, each with the dataset whose file name is given. */
  static void pickForExpertMerging(String texts, String... adapters) {
    browser.select("Method", "Expert Merging");
    for (String a : adapters) {
      browser.find("#pick-" + a).click();
      browser.select("Calibration texts of " + a, texts);
    }
  }

  @Test
  @Order(9)
  void theJobsPageListsTheJobsWithTheirProgressAndFiltersByStatus() {
    browser.open(url("#/jobs"));
    WebElement row = browser.find("tr[data-job='" + jobId + "']");
    assertThat(row.getText()).contains("succeeded").contains(modelId).contains("lora r=4");
    browser.select("Status", "queued");
    browser.waitFor(d -> browser.all("tr[data-job]").isEmpty() ? true : null, Duration.ofSeconds(10), "no queued jobs");
    browser.select("Status", "succeeded");
    browser.waitFor(d -> {
      List<String> shown = browser.all("tr[data-job]").stream().map(r -> r.getAttribute("data-status")).toList();
      return shown.size() == 2 && shown.stream().allMatch("succeeded"::equals) ? true : null;
    }, Duration.ofSeconds(10), "only the two succeeded jobs");
    browser.select("Status", "all");
    browser.find("tr[data-job='" + jobId + "']");
    everyControlIsLabelled("jobs");
    photograph("jobs");
  }

  @Test
  @Order(10)
  void aRunningJobIsCancelledFromItsPageOnlyOnceConfirmed() {
    ObjectNode request = JSON.createObjectNode().put("model", modelId).put("training_file", datasetId());
    request.putObject("adapter").put("type", "lora").put("rank", 2);
    request.putObject("hyperparameters").put("max_steps", 100000).put("batch_size", 2);
    String id = client.createJob(request).path("id").asText();
    // The jobs page follows it from queued to running without a reload.
    browser.open(url("#/jobs"));
    browser.waitFor(d -> browser.find("tr[data-job='" + id + "']").getText().contains("running") ? true : null,
        RunningStack.JOB_TIMEOUT, "the jobs page showing the job running");
    browser.click(id);
    browser.waitFor(d -> "running".equals(browser.find("section[data-job]").getAttribute("data-status")) ? true : null,
        RunningStack.JOB_TIMEOUT, "the job running");
    browser.click("Cancel job");
    browser.find("dialog[open]");
    photograph("job-cancel");
    browser.click("Keep it");
    RunningStack.sleep(1000);
    assertThat(client.getJob(id).path("cancel_requested").asBoolean()).as("cancel requested though kept").isFalse();
    browser.click("Cancel job");
    browser.click("Yes, cancel it");
    browser.waitFor(d -> "cancelled".equals(browser.find("section[data-job]").getAttribute("data-status")) ? true : null,
        Duration.ofMinutes(1), "the job cancelled");
  }

  @Test
  @Order(11)
  void aDpoJobOffersOnlyPreferencePairsAndChartsItsRewards() throws Exception {
    // Late in the order: its pairs become the newest dataset, which the tests above must not pick up.
    Path pairs = RunningStack.scratch("console").resolve("pairs.jsonl");
    List<String> lines = new ArrayList<>();
    for (String w : List.of("hot", "up", "day", "big", "fast", "wet", "open", "light")) {
      lines.add(JSON.writeValueAsString(Map.of("prompt", "the opposite of " + w + " is", "chosen", " right", "rejected", " wrong")));
    }
    Files.write(pairs, lines);
    browser.open(url("#/datasets"));
    browser.field("JSONL file").sendKeys(pairs.toAbsolutePath().toString());
    browser.click("Upload");
    assertThat(browser.find(".ok").getText()).contains("pairs.jsonl").contains("prompt_chosen_rejected");

    browser.open(url("#/new-job"));
    browser.select("Model", "console tiny");
    // SimPO: its own two settings, its default margin sent; then DPO, which the job below trains with.
    browser.select("Objective", "SimPO");
    assertThat(browser.field("Target margin (γ)").getDomProperty("value")).isEqualTo("0.5");
    assertThat(browser.js("return document.querySelector('.cli-command').textContent")).asString()
        .contains("--objective simpo").contains("--gamma 0.5");
    browser.select("Objective", "DPO");
    assertThat(browser.all("[data-field='gamma']")).as("gamma is SimPO's").isEmpty();
    List<String> offered = browser.all("select[name='training_file'] option").stream().map(WebElement::getText).toList();
    assertThat(offered).anyMatch(o -> o.startsWith("pairs.jsonl")).noneMatch(o -> o.startsWith("opposites.jsonl"));
    assertThat(browser.all("[data-field='packing']")).isEmpty(); // supervised only
    browser.fill("Beta (β)", "0.5");
    browser.fill("Max steps", "6");
    browser.fill("Learning rate", "0.02");
    assertThat(browser.js("return document.querySelector('.cli-command').textContent")).asString()
        .contains("--objective dpo").contains("--beta 0.5");
    everyControlIsLabelled("new-job-dpo");
    browser.click("Start training");
    String dpoJob = browser.find("section[data-job]").getAttribute("data-job");
    browser.waitFor(d -> "succeeded".equals(browser.find("section[data-job]").getAttribute("data-status")) ? true : null,
        RunningStack.JOB_TIMEOUT, "the DPO job succeeded");
    // Progress events are throttled (at most one a second, and the last step's): the chart draws each that came.
    browser.waitFor(d -> browser.all("figure.chart figcaption").stream().map(c -> c.getDomProperty("textContent"))
            .anyMatch(c -> c.startsWith("Preference (DPO): ") && c.contains("up to step 6") && c.contains("reward accuracy")) ? true : null,
        Duration.ofSeconds(20), "the preference chart drawn to the last step");
    assertThat(client.getJob(dpoJob).path("method").path("type").asText()).isEqualTo("dpo");
    photograph("job-dpo");
  }

  @Test
  @Order(12)
  void theConsoleLoadsUnder300KilobytesOfScript() {
    browser.open(url("#/jobs"));
    browser.driver.navigate().refresh(); // a load of its own (the fragment alone would not load the page)
    browser.find("tr[data-job]");
    Number scriptBytes = (Number) browser.js("return performance.getEntriesByType('resource')"
        + ".filter(r => r.name.endsWith('.js')).reduce((n, r) => n + r.decodedBodySize, 0)");
    assertThat(scriptBytes.longValue()).isPositive().isLessThan(300 * 1024);
    // How fast the first page comes is a figure for docs/benchmarks.md, not a test: printed here.
    Object timing = loadTiming();
    Object slowest = browser.js("return performance.getEntriesByType('resource').sort((a, b) => b.responseEnd - a.responseEnd)"
        + ".slice(0, 4).map(r => r.name.replace(location.origin, '') + ' ' + Math.round(r.startTime) + '-' + Math.round(r.responseEnd))");
    System.out.println("[console] script " + scriptBytes.longValue() / 1024 + " KiB; first page " + timing + " ms; last resources " + slowest);
  }

  @Test
  @Order(13)
  void anAdminCreatesAndRevokesKeysThenLogsOut() {
    browser.click("Log out");
    browser.field("API key").sendKeys(RunningStack.get().adminKey(), Keys.ENTER);
    browser.click("Keys");
    browser.click("Create key");
    assertThat(browser.errorAt("tenant")).isNotBlank(); // required, named by the API
    browser.fill("Tenant", "console-made");
    browser.fill("Key name", "from the console");
    browser.click("Create key");
    String secret = browser.find(".created-key .secret").getText();
    try (PeftClient made = new PeftClient(RunningStack.get().url(), secret)) {
      assertThat(made.listJobs(null, null, 1).path("data").isArray()).isTrue(); // the shown key works
    }
    everyControlIsLabelled("keys");
    photograph("keys");
    WebElement row = browser.waitFor(d -> browser.all("tr[data-key]").stream().filter(r -> r.getText().contains("from the console"))
        .findFirst().orElse(null), Duration.ofSeconds(10), "the new key listed");
    String id = row.getAttribute("data-key");
    row.findElement(org.openqa.selenium.By.tagName("button")).click();
    browser.click("Revoke key");
    browser.waitFor(d -> browser.all("tr[data-key='" + id + "']").isEmpty() ? true : null, Duration.ofSeconds(10), "the key gone");

    browser.click("Log out");
    browser.field("API key");
    assertThat(browser.js("return sessionStorage.getItem('peft.apiKey')")).isNull();
  }

  /** The tenant's uploaded dataset (the good one). */
  static String datasetId() {
    return client.listDatasets(null, 100).path("data").findValues("id").stream().map(JsonNode::asText).findFirst().orElseThrow();
  }

  static long sizeOf(Path p) {
    try {
      return Files.size(p);
    } catch (java.io.IOException e) {
      return 0;
    }
  }

  static List<JsonNode> allEvents(String job) {
    List<JsonNode> events = new ArrayList<>();
    String after = null;
    while (true) {
      JsonNode page = client.jobEvents(job, after, 100);
      page.path("data").forEach(events::add);
      if (!page.path("has_more").asBoolean() || events.isEmpty()) {
        return events;
      }
      after = events.get(events.size() - 1).path("id").asText();
    }
  }
}

package io.peftplatform.stack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * A real Chromium (Debian's chromium and chromium-driver) driven through Selenium, headless and offline,
 * with its downloads in a folder of the test's and its screenshots under target/console-screenshots.
 * Without the browser the tests are skipped, unless {@code -Dbrowser.required=true} (as CI runs
 * them), which makes a missing browser a failure.
 */
final class Browser implements AutoCloseable {
  static final Path CHROMIUM = Path.of(System.getProperty("browser.chromium", "/usr/bin/chromium"));
  static final Path DRIVER = Path.of(System.getProperty("browser.driver", "/usr/bin/chromedriver"));
  static final Path SCREENSHOTS = Path.of("target", "console-screenshots");

  final ChromeDriver driver;
  final Path downloads;

  private Browser(ChromeDriver driver, Path downloads) {
    this.driver = driver;
    this.downloads = downloads;
  }

  /** Skips (or, when the browser is required, fails) when Chromium or its driver is not installed. */
  static void requireInstalled() {
    boolean installed = Files.isExecutable(CHROMIUM) && Files.isExecutable(DRIVER);
    String missing = "no Chromium at " + CHROMIUM + " with its driver at " + DRIVER + " (apt-get install chromium chromium-driver)";
    if (!installed && Boolean.getBoolean("browser.required")) {
      throw new IllegalStateException(missing + "; -Dbrowser.required=true makes this a failure");
    }
    Assumptions.assumeTrue(installed, missing);
  }

  static Browser start(Path scratch) {
    requireInstalled();
    try {
      Path downloads = Files.createDirectories(scratch.resolve("downloads"));
      Path profile = Files.createTempDirectory(scratch, "chromium-profile");
      ChromeOptions options = new ChromeOptions();
      options.setBinary(CHROMIUM.toFile());
      options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
          "--user-data-dir=" + profile, "--window-size=1280,900");
      options.setCapability("goog:loggingPrefs", Map.of("browser", "ALL"));
      options.setExperimentalOption("prefs", Map.of("download.default_directory", downloads.toString(),
          "download.prompt_for_download", false, "safebrowsing.enabled", false));
      ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile()).usingAnyFreePort().build();
      ChromeDriver driver = new ChromeDriver(service, options);
      driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
      Files.createDirectories(SCREENSHOTS);
      return new Browser(driver, downloads);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  void open(String url) {
    driver.get(url);
  }

  void width(int px) {
    driver.manage().window().setSize(new Dimension(px, 900));
  }

  WebElement find(String css) {
    return waitFor(d -> {
      List<WebElement> found = d.findElements(By.cssSelector(css));
      return found.isEmpty() || !found.get(0).isDisplayed() ? null : found.get(0);
    }, Duration.ofSeconds(20), css);
  }

  List<WebElement> all(String css) {
    return driver.findElements(By.cssSelector(css));
  }

  <T> T waitFor(Function<WebDriver, T> condition, Duration timeout, String what) {
    // The pages re-render as they poll: an element found a moment ago may be gone, which is a reason to look again.
    return new WebDriverWait(driver, timeout, Duration.ofMillis(200)).withMessage(what)
        .ignoring(org.openqa.selenium.StaleElementReferenceException.class).until(condition);
  }

  /** Types into the labelled control (its label's text, as a user finds it). */
  WebElement field(String label) {
    WebElement l = waitFor(d -> d.findElements(By.xpath("//label[normalize-space(.)=" + xpathString(label) + "]")).stream()
        .filter(WebElement::isDisplayed).findFirst().orElse(null), Duration.ofSeconds(20), "a field labelled " + label);
    return driver.findElement(By.id(l.getAttribute("for")));
  }

  /** Replaces the field's text as a user does (select all, delete, type), so the page sees every keystroke. */
  void fill(String label, String value) {
    WebElement input = field(label);
    input.sendKeys(org.openqa.selenium.Keys.chord(org.openqa.selenium.Keys.CONTROL, "a"), org.openqa.selenium.Keys.DELETE);
    input.sendKeys(value);
  }

  void select(String label, String visibleTextPrefix) {
    WebElement select = field(label);
    waitFor(d -> select.findElements(By.tagName("option")).stream().anyMatch(o -> o.getText().startsWith(visibleTextPrefix)),
        Duration.ofSeconds(30), "an option " + visibleTextPrefix + " in " + label);
    new org.openqa.selenium.support.ui.Select(select).getOptions().stream().filter(o -> o.getText().startsWith(visibleTextPrefix))
        .findFirst().orElseThrow().click();
  }

  void click(String buttonText) {
    WebElement b = waitFor(d -> d.findElements(By.xpath("//*[self::button or self::a][normalize-space(.)=" + xpathString(buttonText) + "]"))
        .stream().filter(e -> e.isDisplayed() && e.isEnabled()).findFirst().orElse(null), Duration.ofSeconds(20), "a button " + buttonText);
    b.click();
  }

  /** The error shown at a field (data-error-for), waited for. */
  String errorAt(String field) {
    return find("[data-error-for='" + field + "']").getText();
  }

  Object js(String script, Object... args) {
    return ((JavascriptExecutor) driver).executeScript(script, args);
  }

  /**
   * What the page's scripts reported since the last call that is an error of the console's own: an
   * uncaught exception or a refusal by the page's security policy (the API's 4xx answers to a test's
   * deliberate mistakes are not counted).
   */
  List<String> scriptErrors() {
    return driver.manage().logs().get(org.openqa.selenium.logging.LogType.BROWSER).getAll().stream()
        .map(org.openqa.selenium.logging.LogEntry::getMessage)
        .filter(m -> m.contains("Uncaught") || m.contains("Refused to") || m.contains("Content Security Policy")).toList();
  }

  void screenshot(String name) {
    try {
      Files.write(SCREENSHOTS.resolve(name + ".png"), ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
    } catch (IOException | RuntimeException e) {
      System.out.println("[browser] no screenshot " + name + ": " + e);
    }
  }

  private static String xpathString(String s) {
    return s.contains("'") ? "\"" + s + "\"" : "'" + s + "'";
  }

  @Override
  public void close() {
    driver.quit();
  }
}

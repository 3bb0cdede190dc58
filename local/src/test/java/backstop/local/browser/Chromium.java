package backstop.local.browser;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserType;
import com.microsoft.playwright.Playwright;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Debian's Chromium driven by Playwright for Java, with nothing downloaded: the machine's node runs the driver
 * (the 193 MB driver-bundle is excluded in the pom) and /usr/bin/chromium is the browser. Each browser gets a
 * scratch TMPDIR that is removed on close.
 */
public final class Chromium implements AutoCloseable {
    public static final Path EXECUTABLE = Path.of("/usr/bin/chromium");
    static final List<String> ARGS = List.of("--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run");

    private final Playwright playwright;
    private final Path scratch;

    /**
     * How long a web-first assertion ({@code PlaywrightAssertions.assertThat(locator)}) keeps retrying: Playwright's
     * 5 s default is for a quiet machine, and the suite must pass on a busy 2-core one. A condition that holds
     * returns at once, so this only lengthens failures.
     */
    public static final double ASSERTION_TIMEOUT_MS = 20_000;

    public Chromium() {
        com.microsoft.playwright.assertions.PlaywrightAssertions.setDefaultAssertionTimeout(ASSERTION_TIMEOUT_MS);
        if (!Files.isExecutable(EXECUTABLE)) {
            throw new IllegalStateException("Chromium is missing: apt-get install -y chromium");
        }
        System.setProperty("playwright.nodejs.path", System.getProperty("playwright.nodejs.path", "/usr/bin/node"));
        try {
            scratch = Files.createTempDirectory("backstop-chromium-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        playwright = Playwright.create(new Playwright.CreateOptions()
                .setEnv(Map.of("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")));
    }

    /** A fresh browser; {@code extraArgs} add to the standard flags. */
    public Browser launch(String... extraArgs) {
        List<String> args = Stream.concat(ARGS.stream(), Stream.of(extraArgs)).toList();
        return playwright.chromium().launch(new BrowserType.LaunchOptions()
                .setExecutablePath(EXECUTABLE)
                .setHeadless(true)
                .setArgs(args)
                .setEnv(Map.of("TMPDIR", scratch.toString(), "HOME", scratch.toString())));
    }

    public Playwright playwright() {
        return playwright;
    }

    @Override
    public void close() {
        playwright.close();
        try (Stream<Path> files = Files.walk(scratch)) {
            files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

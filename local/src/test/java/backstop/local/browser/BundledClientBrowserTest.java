package backstop.local.browser;

import backstop.local.LocalFront;
import backstop.local.LocalStack;
import backstop.local.Waits;
import backstop.local.aws.AwsEmulation;
import backstop.local.aws.TemplateResources;
import backstop.local.connect.Quota;
import backstop.local.identity.Tokens;
import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Page;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The client as each bundler ships it (web/fixtures: the README's esbuild, Vite and webpack recipes, built by
 * {@code node fixtures/build.mjs}), in real Chromium against the local stack: the bundled page registers, its
 * heartbeats reach the server from a worker (the page's own fetch sends none: no fallback to the page's timers,
 * which a hidden tab throttles), and closing the tab sends the beacon that sets the agent Offline. Each bundle is
 * served from its own origin root, as a host would serve it.
 */
class BundledClientBrowserTest {
    static final int HEARTBEAT = 5;
    static LocalStack stack;
    static Chromium chromium;
    static Browser browser;
    static final Map<String, HttpServer> hosts = new LinkedHashMap<>();
    static Path built;

    @BeforeAll
    static void start(@TempDir Path temp) throws Exception {
        Path web = TemplateResources.findTemplate().getParent().resolve("web");
        built = temp.resolve("built");
        PackagedClientBrowserTest.run(web, "node", "fixtures/build.mjs", built.toString());
        Map<String, Integer> ports = new LinkedHashMap<>();
        for (String bundler : List.of("esbuild", "vite", "webpack")) {
            ports.put(bundler, AwsEmulation.freePort());
        }
        stack = LocalStack.start(LocalStack.Options.forTests().withEnvironment(Map.of(
                "ALLOWED_ORIGINS", ports.values().stream().map(p -> "http://127.0.0.1:" + p).collect(Collectors.joining(",")),
                "HEARTBEAT_SECONDS", "" + HEARTBEAT, "STALE_AFTER_SECONDS", "" + HEARTBEAT * 4)));
        stack.connect().setQuota(Quota.OFF);
        for (var port : ports.entrySet()) {
            hosts.put(port.getKey(), PackagedClientBrowserTest.serve(built.resolve(port.getKey()), port.getValue()));
        }
        chromium = new Chromium();
        browser = chromium.launch();
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.close();
            chromium.close();
        }
        if (stack != null) {
            stack.close();
        }
        hosts.values().forEach(h -> h.stop(0));
    }

    @ParameterizedTest
    @ValueSource(strings = {"esbuild", "vite", "webpack"})
    void bundledPage_should_heartbeatFromAWorker_andItsCloseSetTheAgentOffline(String bundler) throws Exception {
        String userId = bundler + "-" + UUID.randomUUID();
        stack.connect().addAgent(stack.instanceId(), userId, userId, "Bundled", "Agent", "rp-sales", "Available");
        String token = Tokens.forAgentsOf(stack).apply(userId);
        // Vite ships an ES module; webpack and esbuild (IIFE) a classic script.
        Files.writeString(built.resolve(bundler).resolve("page.html"), page(userId, token, bundler.equals("vite") ? "module" : "text/javascript"));

        List<String> errors = new ArrayList<>();
        BrowserContext context = browser.newContext();
        Page page = CcpPage.watched(context, errors);
        page.navigate("http://127.0.0.1:" + hosts.get(bundler).getAddress().getPort() + "/page.html");
        page.waitForFunction("() => window.backstopState === 'open'", null,
                new Page.WaitForFunctionOptions().setTimeout(Waits.PROMPT.toMillis()));
        String sessionId = (String) page.evaluate("() => window.sessionId");

        await().atMost(Duration.ofSeconds(HEARTBEAT * 3L)).pollInterval(Duration.ofMillis(100))
                .until(() -> beats(sessionId) >= 1);
        assertThat(page.evaluate("() => window.pageHeartbeats")).as("heartbeats through the page's own fetch").isEqualTo(0);
        assertThat(page.evaluate("() => window.heartbeatMode ?? 'worker'")).isEqualTo("worker");
        assertThat(page.workers()).as("the heartbeat and tick workers").hasSize(2);

        page.close();

        CcpPage.awaitBackstopOffline(stack, userId);
        assertThat(CcpPageBrowserTest.status(stack, userId)).isEqualTo("Offline");
        assertThat(errors).isEmpty();
        context.close();
    }

    static long beats(String sessionId) {
        return stack.accessEntries().stream().map(LocalFront.AccessEntry::line)
                .filter(line -> line.contains("/sessions/" + sessionId + "/heartbeat 200")).count();
    }

    /** The host page: counts heartbeats sent through its own fetch, loads the bundle, starts it on the emulator. */
    static String page(String userId, String token, String scriptType) {
        String emulator = stack.connect().endpoint().toString();
        String base = emulator + "/_emulator/instances/" + stack.instanceId();
        String arn = stack.config().connectInstance().arn();
        return """
                <!doctype html><html><head><meta charset="utf-8"><title>A bundled custom CCP</title><link rel="icon" href="data:,">
                </head><body>
                <script>
                window.pageHeartbeats = 0;
                const pageFetch = window.fetch;
                window.fetch = (input, init) => {
                  if (String(input.url ?? input).includes('/heartbeat')) window.pageHeartbeats += 1;
                  return pageFetch(input, init);
                };
                </script>
                <script type="%s" src="app.js"></script>
                <script type="module">
                const base = '%s', userId = '%s';
                const view = await fetch(`${base}/agents/${userId}`).then((r) => r.json());
                const adapter = {
                  onAgent(listener) { listener(); },
                  agentArn: () => '%s/agent/' + userId,
                  currentStatus: () => ({ name: view.statusName, arn: '%s/agent-state/' + view.statusId, type: view.statusType.toLowerCase() }),
                };
                window.startBackstop({ adapter, apiBase: '%s', getToken: async () => '%s',
                  onChange: (state, detail) => {
                    if (detail.sessionId) window.sessionId = detail.sessionId;
                    if (detail.heartbeat) window.heartbeatMode = detail.heartbeat;
                    window.backstopState = state;
                  } });
                </script></body></html>
                """.formatted(scriptType, base, userId, arn, arn, stack.frontUrl(), token);
    }
}

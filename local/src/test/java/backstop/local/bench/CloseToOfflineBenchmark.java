package backstop.local.bench;

import backstop.local.LocalStack;
import backstop.local.browser.Chromium;
import backstop.local.connect.ConnectCall;
import backstop.local.connect.ConnectEmulator;
import backstop.local.connect.Quota;
import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Page;
import backstop.local.browser.CcpPage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.awaitility.Awaitility.await;

/**
 * Not part of the test run (it measures, it does not judge): time from Playwright's page.close() to the
 * Connect emulator setting the agent Offline, through real Chromium and the local stack.
 * <pre>local/bin/test -pl local -Dtest=CloseToOfflineBenchmark -Dbench=true -Dsurefire.failIfNoSpecifiedTests=false -Druns=20</pre>
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class CloseToOfflineBenchmark {

    @Test
    void measure() throws Exception {
        int runs = Integer.getInteger("runs", 20);
        try (LocalStack stack = LocalStack.start(LocalStack.Options.forTests()); Chromium chromium = new Chromium()) {
            stack.connect().setQuota(Quota.OFF);
            Browser browser = chromium.launch();
            List<Double> millis = new ArrayList<>();
            for (int i = 0; i < runs + 2; i++) {
                String userId = "bench-" + UUID.randomUUID();
                stack.connect().addAgent(stack.instanceId(), userId, userId, "Bench", "Agent", "rp-sales", "Offline");
                BrowserContext context = browser.newContext();
                Page page = context.newPage();
                CcpPage.openAvailable(stack, page, userId);

                Instant closing = Instant.now();
                page.close();
                await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(2)).until(() ->
                        stack.connect().calls(ConnectEmulator.PUT_USER_STATUS).stream().anyMatch(c -> userId.equals(c.userId()) && c.ok()));
                ConnectCall call = stack.connect().calls(ConnectEmulator.PUT_USER_STATUS).stream()
                        .filter(c -> userId.equals(c.userId())).findFirst().orElseThrow();
                if (i >= 2) { // two warm-up runs (class loading, JIT) are not counted
                    millis.add(Duration.between(closing, call.at()).toNanos() / 1e6);
                }
                context.close();
            }
            browser.close();
            List<Double> sorted = millis.stream().sorted().toList();
            System.out.printf("close-to-offline over %d runs: median %.1f ms, min %.1f ms, p90 %.1f ms, max %.1f ms%n",
                    sorted.size(), percentile(sorted, 50), sorted.getFirst(), percentile(sorted, 90), sorted.getLast());
        }
    }

    static double percentile(List<Double> sorted, int p) {
        int index = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
    }
}

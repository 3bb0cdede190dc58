package backstop.local.bench;

import backstop.local.LocalStack;
import backstop.local.browser.Chromium;
import backstop.local.connect.Quota;
import com.microsoft.playwright.Browser;
import backstop.local.browser.CcpPage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.awaitility.Awaitility.await;

/**
 * Time from killing Chromium (no beacon) to the agent Offline in Connect, with the short configuration
 * (heartbeat 5 s, stale after 10 s, sweep every 1 s); the bound is 10 + 1 + 2 = 13 s.
 * <pre>local/bin/test -pl local -Dtest=CrashDetectionBenchmark -Dbench=true -Dsurefire.failIfNoSpecifiedTests=false -Druns=10</pre>
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class CrashDetectionBenchmark {

    @Test
    void measure() throws Exception {
        int runs = Integer.getInteger("runs", 10);
        try (LocalStack stack = LocalStack.start(LocalStack.Options.forTests()
                .withEnvironment(Map.of("HEARTBEAT_SECONDS", "5", "STALE_AFTER_SECONDS", "10", "SWEEP_INTERVAL_SECONDS", "1"))
                .withSchedule(Duration.ofSeconds(5))); Chromium chromium = new Chromium()) {
            stack.connect().setQuota(Quota.OFF);
            List<Long> millis = new ArrayList<>();
            for (int i = 0; i < runs; i++) {
                String userId = "crash-" + UUID.randomUUID();
                stack.connect().addAgent(stack.instanceId(), userId, userId, "Crash", "Agent", "rp-sales", "Offline");
                Browser browser = chromium.launch();
                CcpPage.openAvailable(stack, browser.newContext().newPage(), userId);
                long crash = System.nanoTime();
                browser.close();
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                        .until(() -> stack.connect().agentView(stack.instanceId(), userId).statusName().equals("Offline"));
                millis.add((System.nanoTime() - crash) / 1_000_000);
            }
            List<Long> sorted = millis.stream().sorted().toList();
            System.out.printf("crash-to-offline over %d runs: median %d ms, min %d ms, max %d ms (bound 13000 ms)%n",
                    runs, sorted.get(sorted.size() / 2), sorted.getFirst(), sorted.getLast());
        }
    }
}

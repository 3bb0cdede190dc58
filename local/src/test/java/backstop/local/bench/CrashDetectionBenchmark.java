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

    /**
     * The deployed defaults (heartbeat 20 s, stale after 75 s, sweeps every 15 s, the reconciler on the template's
     * rate(1 minute) with the template's 58 s timeout): {@code runs} agents, their browsers killed one after another
     * at seeded random moments over a minute and a half (so the kills fall at every phase of the heartbeat, the
     * sweeps and the invocations), each timed from its kill to Offline in Connect. Bound: STALE_AFTER +
     * SWEEP_INTERVAL = 90 s.
     */
    @Test
    void measureWithDefaults() throws Exception {
        int runs = Integer.getInteger("runs", 10);
        try (LocalStack stack = LocalStack.start(LocalStack.Options.forTests().withSchedule(Duration.ofMinutes(1)));
             Chromium chromium = new Chromium()) {
            stack.connect().setQuota(Quota.OFF);
            java.util.Random random = new java.util.Random(20261129);
            List<String> users = new ArrayList<>();
            List<Browser> browsers = new ArrayList<>();
            for (int i = 0; i < runs; i++) {
                String userId = "crash-default-" + UUID.randomUUID();
                stack.connect().addAgent(stack.instanceId(), userId, userId, "Crash", "Agent", "rp-sales", "Offline");
                Browser browser = chromium.launch();
                CcpPage.openAvailable(stack, browser.newContext().newPage(), userId);
                users.add(userId);
                browsers.add(browser);
            }
            java.util.Map<String, Long> killedAt = new java.util.concurrent.ConcurrentHashMap<>();
            java.util.Map<String, Long> offlineAt = new java.util.concurrent.ConcurrentHashMap<>();
            Thread watcher = Thread.ofVirtual().start(() -> {
                while (offlineAt.size() < users.size() && !Thread.currentThread().isInterrupted()) {
                    for (String userId : killedAt.keySet()) {
                        if (!offlineAt.containsKey(userId)
                                && stack.connect().agentView(stack.instanceId(), userId).statusName().equals("Offline")) {
                            offlineAt.put(userId, System.nanoTime());
                        }
                    }
                    java.util.concurrent.locks.LockSupport.parkNanos(50_000_000);
                }
            });
            for (int i = 0; i < runs; i++) {
                java.util.concurrent.locks.LockSupport.parkNanos(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(random.nextInt(9_000)));
                killedAt.put(users.get(i), System.nanoTime());
                browsers.get(i).close();
            }
            await().atMost(Duration.ofSeconds(150)).pollInterval(Duration.ofMillis(200)).until(() -> offlineAt.size() == users.size());
            watcher.interrupt();
            List<Long> sorted = users.stream().map(u -> (offlineAt.get(u) - killedAt.get(u)) / 1_000_000).sorted().toList();
            System.out.printf("crash-to-offline with the defaults over %d kills: median %d ms, min %d ms, max %d ms (bound 90000 ms); all: %s%n",
                    runs, sorted.get(sorted.size() / 2), sorted.getFirst(), sorted.getLast(), sorted);
        }
    }
}

package backstop.local.browser;

import backstop.local.Waits;
import backstop.local.LocalStack;
import backstop.local.connect.ConnectEmulator;
import backstop.local.connect.Quota;
import com.microsoft.playwright.Browser;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Chromium dies with the CCP open (browser.close(): no pagehide, no beacon). Only the missing heartbeats tell,
 * and the reconciler, on its local schedule, sets the agent Offline within STALE_AFTER + SWEEP_INTERVAL + 2 s.
 */
class CrashBrowserTest {
    static final int HEARTBEAT = 5;
    static final int STALE_AFTER = 10;
    static final int SWEEP_INTERVAL = 1;
    static final int SLACK = 8;
    static LocalStack stack;
    static Chromium chromium;

    @BeforeAll
    static void start() throws Exception {
        stack = LocalStack.start(LocalStack.Options.forTests()
                .withEnvironment(Map.of("HEARTBEAT_SECONDS", "" + HEARTBEAT, "STALE_AFTER_SECONDS", "" + STALE_AFTER,
                        "SWEEP_INTERVAL_SECONDS", "" + SWEEP_INTERVAL))
                .withSchedule(Duration.ofSeconds(5)));
        stack.connect().setQuota(Quota.OFF);
        chromium = new Chromium();
    }

    @AfterAll
    static void stop() {
        chromium.close();
        stack.close();
    }

    @Test
    void crashedBrowser_should_leaveAgentOffline_afterTheStaleLimit_withinStaleLimitPlusSweep() {
        String userId = "crash-" + UUID.randomUUID();
        stack.connect().addAgent(stack.instanceId(), userId, userId, "Crash", "Agent", "rp-sales", "Offline");
        Browser browser = chromium.launch();
        CcpPage.openAvailable(stack, browser.newContext().newPage(), userId);

        Instant crash = Instant.now();
        browser.close(); // the whole browser goes: no beacon

        // Bound: STALE_AFTER + SWEEP_INTERVAL, plus SLACK for the sweep's own work (a query, a transaction, a
        // Connect call) on a busy 2-core machine. Never earlier than STALE_AFTER after the last heartbeat, which
        // came at most HEARTBEAT before the crash: a sweep that closed live sessions early would fail here.
        await().atMost(Duration.ofSeconds(STALE_AFTER + SWEEP_INTERVAL + SLACK)).pollInterval(Duration.ofMillis(100))
                .until(() -> status(userId).equals("Offline"));
        Duration detection = Duration.between(crash, Instant.now());
        System.out.printf("crash detected and agent Offline after %d ms%n", detection.toMillis());
        assertThat(detection).as("not before the session was stale").isGreaterThanOrEqualTo(Duration.ofSeconds(STALE_AFTER - HEARTBEAT));
        assertThat(stack.connect().calls(ConnectEmulator.PUT_USER_STATUS)).filteredOn(c -> userId.equals(c.userId()))
                .hasSize(1);
        await().atMost(Waits.PROMPT).untilAsserted(() ->
                assertThat(stack.events().events("Agent Set Offline", "userId", userId)).singleElement()
                        .satisfies(e -> assertThat(e.path("detail").path("reason").asText()).isEqualTo("stale-session")));
    }

    static String status(String userId) {
        return stack.connect().agentView(stack.instanceId(), userId).statusName();
    }
}

package backstop.local.browser;

import backstop.local.LocalStack;
import backstop.local.Waits;
import backstop.local.connect.ConnectEmulator;
import backstop.local.connect.Quota;
import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Chromium dies with the Agent Workspace open (SIGKILL of its browser process): no pagehide in the service iframe,
 * no beacon. (Playwright's browser.close() is no crash here: the service iframe's own renderer still sent its
 * pagehide beacon, Offline in 447 ms, so this test kills the process.) The service's
 * heartbeats (from its worker) stop, and the reconciler sets the agent Offline within the crash bound the custom
 * CCP has (CrashBrowserTest): STALE_AFTER + SWEEP_INTERVAL, plus the same slack for the sweep's own work.
 */
class WorkspaceCrashBrowserTest {
    static LocalStack stack;
    static Chromium chromium;

    @BeforeAll
    static void start() throws Exception {
        stack = LocalStack.start(LocalStack.Options.forTests()
                .withEnvironment(Map.of("HEARTBEAT_SECONDS", "" + CrashBrowserTest.HEARTBEAT, "STALE_AFTER_SECONDS",
                        "" + CrashBrowserTest.STALE_AFTER, "SWEEP_INTERVAL_SECONDS", "" + CrashBrowserTest.SWEEP_INTERVAL))
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
    void crashedBrowser_should_leaveTheWorkspaceAgentOffline_withinTheCrashBound() {
        String userId = "workspace-crash-" + UUID.randomUUID();
        stack.connect().addAgent(stack.instanceId(), userId, userId, "Crash", "Agent", "rp-sales", "Offline");
        java.util.Set<Long> before = chromiumProcesses().map(ProcessHandle::pid).collect(java.util.stream.Collectors.toSet());
        Browser browser = chromium.launch("--test-third-party-cookie-phaseout");
        // The browser process this launch started: a new Chromium process whose parent is not Chromium.
        ProcessHandle browserProcess = chromiumProcesses().filter(p -> !before.contains(p.pid()))
                .filter(p -> p.parent().map(parent -> !isChromium(parent)).orElse(true)).findFirst().orElseThrow();
        BrowserContext context = browser.newContext();
        WorkspacePage.openProtectedAndAvailable(stack, context, userId, new ArrayList<>());
        long beatsBefore = heartbeats();
        await("a heartbeat from the service's worker").atMost(Waits.PROMPT).until(() -> heartbeats() > beatsBefore);

        Instant crash = Instant.now();
        browserProcess.destroyForcibly(); // the whole browser dies at once: no page lifecycle at all
        await().atMost(Waits.PROMPT).until(() -> !browserProcess.isAlive());

        await().atMost(Duration.ofSeconds(CrashBrowserTest.STALE_AFTER + CrashBrowserTest.SWEEP_INTERVAL + CrashBrowserTest.SLACK))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> stack.connect().agentView(stack.instanceId(), userId).statusName().equals("Offline"));
        Duration detection = Duration.between(crash, Instant.now());
        System.out.printf("workspace: browser killed -> Offline after %d ms%n", detection.toMillis());
        assertThat(detection).as("not before the session was stale")
                .isGreaterThanOrEqualTo(Duration.ofSeconds(CrashBrowserTest.STALE_AFTER - CrashBrowserTest.HEARTBEAT));
        assertThat(stack.accessLog()).noneMatch(line -> line.contains("/close "));
        assertThat(stack.connect().calls(ConnectEmulator.PUT_USER_STATUS)).filteredOn(c -> userId.equals(c.userId())).hasSize(1);
        await().atMost(Waits.PROMPT).untilAsserted(() ->
                assertThat(stack.events().events("Agent Set Offline", "userId", userId)).singleElement()
                        .satisfies(e -> assertThat(e.path("detail").path("reason").asText()).isEqualTo("stale-session")));
    }

    static java.util.stream.Stream<ProcessHandle> chromiumProcesses() {
        return ProcessHandle.current().descendants().filter(WorkspaceCrashBrowserTest::isChromium);
    }

    /** Debian's /usr/bin/chromium is a script that runs /usr/lib/chromium/chromium. */
    static boolean isChromium(ProcessHandle process) {
        return process.info().command().map(c -> c.endsWith("/chromium")).orElse(false);
    }

    static long heartbeats() {
        return stack.accessLog().stream().filter(line -> line.contains("/heartbeat 200")).count();
    }
}

package backstop.local.browser;

import backstop.local.Waits;
import backstop.local.LocalFront;
import backstop.local.LocalStack;
import backstop.local.aws.AwsEmulation;
import backstop.local.connect.AgentStatusType;
import com.fasterxml.jackson.databind.JsonNode;
import backstop.local.connect.Quota;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A hidden CCP tab keeps its heartbeat cadence: the beats come from a dedicated worker, whose timers Chromium
 * does not throttle the way it throttles a hidden page's own timers (to once a minute after five minutes
 * hidden). Chromium runs headful on an Xvfb display with its default background throttling, as a user's does,
 * and the tab is really switched away from ({@link HeadfulChromium}). The default run watches the hidden
 * tab for 30 s; the slow profile ({@code -Dhidden.seconds=400}) crosses the five-minute mark and also counts
 * a main-thread timer in the same page for comparison.
 */
class HiddenTabHeartbeatTest {
    static final int HEARTBEAT = 5;
    static final int HIDDEN_SECONDS = Integer.getInteger("hidden.seconds", 30);
    static LocalStack stack;
    static Xvfb xvfb;

    @BeforeAll
    static void start() throws Exception {
        xvfb = Xvfb.start();
        stack = LocalStack.start(LocalStack.Options.forTests().withEnvironment(Map.of("HEARTBEAT_SECONDS", "" + HEARTBEAT,
                "STALE_AFTER_SECONDS", "" + HEARTBEAT * 4)));
        stack.connect().setQuota(Quota.OFF);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        stack.close();
        xvfb.close();
    }

    @Test
    void hiddenTab_should_keepItsHeartbeatCadence() throws Exception {
        String userId = "hidden-" + UUID.randomUUID();
        stack.connect().addAgent(stack.instanceId(), userId, userId, "Hidden", "Agent", "rp-sales", "Offline");
        URI ccpUrl = URI.create(stack.frontUrl() + "/ccp.html?agent=" + userId);
        try (HeadfulChromium browser = HeadfulChromium.start(xvfb.display(), ccpUrl, AwsEmulation.freePort())) {
            JsonNode ccp = browser.tab(ccpUrl.toString());
            await().atMost(Waits.PROMPT).until(() ->
                    browser.evaluate(ccp, "document.body.dataset.backstop").asText().equals("open"));
            stack.connect().setStatusFromCcp(stack.instanceId(), userId,
                    stack.connect().statusId(stack.instanceId(), AgentStatusType.ROUTABLE));
            // A main-thread timer at the heartbeat's period, counted for comparison with the worker's beats.
            browser.evaluate(ccp, "window.mainTicks = []; setInterval(() => window.mainTicks.push(Date.now()), "
                    + HEARTBEAT * 1000 + "); true");

            browser.openForegroundTab(URI.create(stack.frontUrl() + "/ops.html")); // the agent switches tabs
            await().atMost(Waits.PROMPT).until(() ->
                    browser.evaluate(ccp, "document.visibilityState").asText().equals("hidden"));
            Instant hidden = Instant.now();
            int expected = HIDDEN_SECONDS / HEARTBEAT;

            await().atMost(Duration.ofSeconds(HIDDEN_SECONDS + 2L * HEARTBEAT)).pollInterval(Duration.ofMillis(200))
                    .until(() -> beatsSince(hidden).size() >= expected);

            List<Instant> beats = beatsSince(hidden);
            List<Long> gaps = gaps(beats);
            long maxGap = gaps.stream().mapToLong(Long::longValue).max().orElseThrow();
            double meanGap = gaps.stream().mapToLong(Long::longValue).average().orElseThrow();
            int ticks = browser.evaluate(ccp, "window.mainTicks.filter(t => t >= " + hidden.toEpochMilli() + ").length").asInt();
            System.out.printf("hidden tab, %d s hidden: %d heartbeats from the worker, mean gap %.0f ms, max gap %d ms;"
                            + " main-thread %d s timer ticked %d times%n", Duration.between(hidden, Instant.now()).toSeconds(),
                    beats.size(), meanGap, maxGap, HEARTBEAT, ticks);
            assertThat(browser.evaluate(ccp, "document.visibilityState").asText()).as("still hidden").isEqualTo("hidden");
            // A throttled or missed beat shows as a gap of two periods or more (Chrome's intensive throttling: a
            // minute); arrival jitter on a busy machine stays well below one period.
            assertThat(maxGap).as("no beat missed while hidden").isLessThan(2 * HEARTBEAT * 1000L);
            assertThat(stack.connect().agentView(stack.instanceId(), userId).statusName()).isEqualTo("Available");
        }
    }

    static List<Instant> beatsSince(Instant since) {
        return stack.accessEntries().stream().filter(e -> e.line().contains("/heartbeat 200"))
                .map(LocalFront.AccessEntry::arrived).filter(at -> at.isAfter(since)).toList();
    }

    static List<Long> gaps(List<Instant> beats) {
        List<Long> gaps = new ArrayList<>();
        for (int i = 1; i < beats.size(); i++) {
            gaps.add(Duration.between(beats.get(i - 1), beats.get(i)).toMillis());
        }
        return gaps;
    }
}

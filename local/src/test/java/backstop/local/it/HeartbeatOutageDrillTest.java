package backstop.local.it;

import backstop.local.DemoInstance;
import backstop.local.LocalStack;
import backstop.local.connect.ConnectEmulator;
import backstop.local.connect.Quota;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The heartbeat-outage drill through the local stack: 51 pages register and beat over real HTTP through the local
 * front (API Gateway's stand-in), the beacon and the scheduled reconciler run as in Lambda against moto and the
 * Connect emulator, with the brake as deployed. Time runs at one sixth: heartbeats every 5 s, stale after 13 s
 * (the deployed 30 / 75 s, less the 2 s a 2-core machine needs for 51 pages), a sweep every second; so the
 * 3-minute outage lasts 30 s and "within 90 s" becomes "within 15 s" (plus a second of scheduling). The same rules
 * at the deployed timings, second by second: HeartbeatOutageBrakeTest.
 * <ol>
 * <li>one page crashes among 50 live: its agent is Offline within the stale limit and a sweep, no outage is suspected;</li>
 * <li>the front answers 503 to every heartbeat for 30 s, and 3 pages are killed meanwhile: nobody is set Offline
 * during it, Heartbeat Outage Suspected goes out within 10 s (60 s deployed); the beats come back: the 47 live
 * agents stay Available, the 3 killed are Offline within 15 s of the recovery (90 s deployed), not before a stale
 * limit since it.</li>
 * </ol>
 */
class HeartbeatOutageDrillTest {
    static final Duration HEARTBEAT = Duration.ofSeconds(5);
    static final Duration STALE_AFTER = Duration.ofSeconds(13);
    static final String HEARTBEAT_ROUTE = "POST /sessions/{sessionId}/heartbeat";
    static LocalStack stack;
    static ApiClient api;
    static final ScheduledExecutorService pages = Executors.newScheduledThreadPool(4);

    @BeforeAll
    static void start() throws Exception {
        stack = LocalStack.start(LocalStack.Options.forTests().withOutageBrake().withEnvironment(Map.of(
                "HEARTBEAT_SECONDS", "5", "STALE_AFTER_SECONDS", "13", "SWEEP_INTERVAL_SECONDS", "1"))
                .withSchedule(Duration.ofSeconds(10)));
        stack.connect().setQuota(Quota.OFF); // 51 registers at once: the quota is not what this drill is about
        api = new ApiClient(stack);
    }

    @AfterAll
    static void stop() {
        pages.shutdownNow();
        if (stack != null) {
            stack.close();
        }
    }

    static String status(String userId) {
        return stack.connect().agentView(stack.instanceId(), userId).statusName();
    }

    static List<JsonNode> outageEvents(String detailType) {
        return stack.events().events().stream().filter(e -> e.path("detail-type").asText().equals(detailType)).toList();
    }

    static long offlineCalls(List<String> users) {
        return stack.connect().calls(ConnectEmulator.PUT_USER_STATUS).stream().filter(c -> users.contains(c.userId())).count();
    }

    @Test
    void drill_should_setNobodyOfflineDuringAnOutage_andOnlyThoseWhoLeft_after() {
        List<String> users = new ArrayList<>();
        Map<String, ScheduledFuture<?>> beating = new ConcurrentHashMap<>();
        for (int i = 0; i < 51; i++) {
            String user = String.format("drill-%02d", i);
            users.add(user);
            stack.connect().addAgent(stack.instanceId(), user, user, "Drill", "Agent" + i, "rp-sales", "Available");
            ApiClient.Session session = api.open(DemoInstance.instanceArn(stack.instanceId()) + "/agent/" + user);
            // Each page beats on its own schedule, as pages opened at different moments do.
            beating.put(user, pages.scheduleAtFixedRate(() -> api.heartbeat(session), 100L * (i % 50),
                    HEARTBEAT.toMillis(), TimeUnit.MILLISECONDS));
        }

        // 1. One crash among 50 live pages.
        beating.remove("drill-50").cancel(false);
        Instant crashed = Instant.now();
        await().atMost(STALE_AFTER.plusSeconds(8)).until(() -> "Offline".equals(status("drill-50")));
        assertThat(Duration.between(crashed, Instant.now())).as("Offline within the stale limit and a sweep")
                .isLessThan(STALE_AFTER.plus(HEARTBEAT).plusSeconds(3));
        assertThat(outageEvents("Heartbeat Outage Suspected")).as("one crash is no outage").isEmpty();

        // 2. The heartbeat path fails for everyone for 30 s (3 minutes deployed); 3 pages die meanwhile.
        List<String> live = users.subList(0, 50);
        long offlineBefore = offlineCalls(live);
        Instant outage = Instant.now();
        stack.front().failRoute(HEARTBEAT_ROUTE, 503);
        List<String> killed = List.of("drill-03", "drill-17", "drill-29");
        killed.forEach(user -> beating.remove(user).cancel(false));
        await().atMost(Duration.ofSeconds(15)).until(() -> !outageEvents("Heartbeat Outage Suspected").isEmpty());
        Instant told = Instant.parse(outageEvents("Heartbeat Outage Suspected").getFirst().path("detail").path("at").asText());
        // Nobody is set Offline for as long as the outage lasts (checked throughout, not once at the end).
        Duration rest = Duration.ofSeconds(30).minus(Duration.between(outage, Instant.now()));
        await().during(rest).atMost(rest.plusSeconds(5)).until(() -> offlineCalls(live) == offlineBefore);
        long offlineDuringOutage = offlineCalls(live) - offlineBefore;

        Instant recovery = Instant.now();
        stack.front().failRoute(HEARTBEAT_ROUTE, 0);
        await().atMost(Duration.ofSeconds(25)).until(() -> killed.stream().allMatch(user -> "Offline".equals(status(user))));
        Instant allKilledOffline = Instant.now();
        await().atMost(Duration.ofSeconds(10)).until(() -> !outageEvents("Heartbeat Outage Ended").isEmpty());

        List<String> stayed = live.stream().filter(user -> !killed.contains(user)).toList();
        assertThat(stayed).as("the 47 who kept working").allSatisfy(user -> assertThat(status(user)).isEqualTo("Available"));
        assertThat(offlineCalls(stayed)).as("PutUserStatus calls for them").isZero();
        System.out.printf("Heartbeat outage drill (1/6 time): %d agents Offline during the 30 s outage; told after %d ms;"
                        + " the 3 killed pages Offline %d ms after the recovery; %d of 47 live agents set Offline%n",
                offlineDuringOutage, Duration.between(outage, told).toMillis(),
                Duration.between(recovery, allKilledOffline).toMillis(), offlineCalls(stayed));
        assertThat(Duration.between(outage, told)).as("told within 10 s (60 s deployed)").isLessThanOrEqualTo(Duration.ofSeconds(11));
        assertThat(Duration.between(recovery, allKilledOffline)).as("the killed Offline within 15 s of recovery (90 s deployed)")
                .isLessThanOrEqualTo(Duration.ofSeconds(17));
    }
}

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
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The heartbeat-outage drill through the local stack: 51 pages register and beat over real HTTP through the local
 * front (API Gateway's stand-in), each beating through the client's own heartbeat code in node (its request, its
 * retry after a third of a period, its `crowdedMsAgo` after a 429: web/e2e/drill-pages.mjs), the beacon and the scheduled reconciler run as in Lambda against moto and the
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
 * And floods: 20 pages beating while anyone sends made-up ids at ten times the route's throttle (scaled to 20/s)
 * for 30 s: real beats mostly get 429 (the throttle is one bucket for every caller, as in API Gateway), yet nobody
 * is set Offline, during it or after, and the API's 4xx count moves. At three times the throttle, too few beats are
 * crowded out for the silent share, but the beacons' count of refused heartbeats shows the flood: nobody is set
 * Offline during it, and 3 pages killed during it are Offline within 15 s of its end (90 s deployed).
 */
class HeartbeatOutageDrillTest {
    static final Duration HEARTBEAT = Duration.ofSeconds(5);
    static final Duration STALE_AFTER = Duration.ofSeconds(13);
    static final String HEARTBEAT_ROUTE = "POST /sessions/{sessionId}/heartbeat";
    /** The route throttle of the flood drills: a tenth of the template's smallest (200/s), so a flood fits a test. */
    static final int FLOOD_DRILL_RATE = 20;
    static LocalStack stack;
    static ApiClient api;
    /** The pages: node running the client's own heartbeat request and cadence (web/e2e/drill-pages.mjs). */
    static Process pages;
    static java.io.Writer toPages;

    @BeforeAll
    static void start() throws Exception {
        stack = LocalStack.start(LocalStack.Options.forTests().withOutageBrake().withEnvironment(Map.of(
                "HEARTBEAT_SECONDS", "5", "STALE_AFTER_SECONDS", "13", "SWEEP_INTERVAL_SECONDS", "1",
                "HEARTBEAT_ROUTE_RATE", Integer.toString(FLOOD_DRILL_RATE)))
                .withSchedule(Duration.ofSeconds(10)));
        stack.connect().setQuota(Quota.OFF); // 51 registers at once: the quota is not what this drill is about
        api = new ApiClient(stack);
        java.nio.file.Path root = backstop.local.aws.TemplateResources.findTemplate().getParent();
        pages = new ProcessBuilder("node", "web/e2e/drill-pages.mjs", stack.frontUrl().toString(), Long.toString(HEARTBEAT.toMillis()))
                .directory(root.toFile()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.INHERIT).start();
        toPages = new java.io.OutputStreamWriter(pages.getOutputStream(), java.nio.charset.StandardCharsets.UTF_8);
    }

    @AfterAll
    static void stop() throws Exception {
        if (pages != null) {
            toPages.close(); // the pages' script ends with its input
            if (!pages.waitFor(10, TimeUnit.SECONDS)) {
                pages.destroyForcibly();
            }
        }
        if (stack != null) {
            stack.close();
        }
    }

    static String status(String userId) {
        return stack.connect().agentView(stack.instanceId(), userId).statusName();
    }

    /** The outage events of {@code detailType} since {@code since} (another drill's are not this one's). */
    static List<JsonNode> outageEvents(String detailType, Instant since) {
        return stack.events().events().stream().filter(e -> e.path("detail-type").asText().equals(detailType))
                .filter(e -> !Instant.parse(e.path("detail").path("at").asText()).isBefore(since)).toList();
    }

    static long offlineCalls(List<String> users) {
        return stack.connect().calls(ConnectEmulator.PUT_USER_STATUS).stream().filter(c -> users.contains(c.userId())).count();
    }

    /** A page beating through the client's own code; {@link Page#cancel} kills it (no beacon, its beats just stop). */
    interface Page {
        void cancel(boolean ignored);
    }

    /** A page's heartbeats: on its own schedule (pages open at different moments), as the client beats. */
    static synchronized Page page(ApiClient.Session session, long offsetMillis) {
        command("{\"op\":\"open\",\"id\":\"" + session.id() + "\",\"token\":\"" + session.token() + "\",\"offsetMs\":" + offsetMillis + "}");
        return ignored -> command("{\"op\":\"kill\",\"id\":\"" + session.id() + "\"}");
    }

    static synchronized void command(String line) {
        try {
            toPages.write(line + "\n");
            toPages.flush();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("the pages' script stopped", e);
        }
    }

    /** Tab closes for every page still open: what a drill leaves must not look silent to the next one. */
    static void closeAll(Map<String, Page> beating, Map<String, ApiClient.Session> sessions) {
        beating.values().forEach(f -> f.cancel(false));
        sessions.values().forEach(api::close);
    }

    static Map<String, ApiClient.Session> open(String prefix, int count, Map<String, Page> beating) {
        Map<String, ApiClient.Session> sessions = new ConcurrentHashMap<>();
        for (int i = 0; i < count; i++) {
            String user = String.format("%s-%02d", prefix, i);
            stack.connect().addAgent(stack.instanceId(), user, user, "Drill", "Agent" + i, "rp-sales", "Available");
            ApiClient.Session session = api.open(DemoInstance.instanceArn(stack.instanceId()) + "/agent/" + user);
            sessions.put(user, session);
            beating.put(user, page(session, 100L * (i % 50)));
        }
        return sessions;
    }

    @Test
    void drill_should_setNobodyOfflineDuringAnOutage_andOnlyThoseWhoLeft_after() {
        Instant start = Instant.now();
        Map<String, Page> beating = new ConcurrentHashMap<>();
        Map<String, ApiClient.Session> sessions = open("drill", 51, beating);
        List<String> users = beating.keySet().stream().sorted().toList();

        // 1. One crash among 50 live pages.
        beating.remove("drill-50").cancel(false);
        Instant crashed = Instant.now();
        await().atMost(STALE_AFTER.plusSeconds(8)).until(() -> "Offline".equals(status("drill-50")));
        assertThat(Duration.between(crashed, Instant.now())).as("Offline within the stale limit and a sweep")
                .isLessThan(STALE_AFTER.plus(HEARTBEAT).plusSeconds(3));
        assertThat(outageEvents("Heartbeat Outage Suspected", start)).as("one crash is no outage").isEmpty();

        // 2. The heartbeat path fails for everyone for 30 s (3 minutes deployed); 3 pages die meanwhile.
        List<String> live = users.subList(0, 50);
        long offlineBefore = offlineCalls(live);
        Instant outage = Instant.now();
        stack.front().failRoute(HEARTBEAT_ROUTE, 503);
        List<String> killed = List.of("drill-03", "drill-17", "drill-29");
        killed.forEach(user -> beating.remove(user).cancel(false));
        await().atMost(Duration.ofSeconds(15)).until(() -> !outageEvents("Heartbeat Outage Suspected", start).isEmpty());
        Instant told = Instant.parse(outageEvents("Heartbeat Outage Suspected", start).getFirst().path("detail").path("at").asText());
        // Nobody is set Offline for as long as the outage lasts (checked throughout, not once at the end).
        Duration rest = Duration.ofSeconds(30).minus(Duration.between(outage, Instant.now()));
        await().during(rest).atMost(rest.plusSeconds(5)).until(() -> offlineCalls(live) == offlineBefore);
        long offlineDuringOutage = offlineCalls(live) - offlineBefore;

        Instant recovery = Instant.now();
        stack.front().failRoute(HEARTBEAT_ROUTE, 0);
        await().atMost(Duration.ofSeconds(25)).until(() -> killed.stream().allMatch(user -> "Offline".equals(status(user))));
        Instant allKilledOffline = Instant.now();
        await().atMost(Duration.ofSeconds(10)).until(() -> !outageEvents("Heartbeat Outage Ended", start).isEmpty());

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
        closeAll(beating, sessions);
    }

    @Test
    void aFloodOfMadeUpIds_atTenTimesTheRouteLimit_should_setNobodyOffline() throws Exception {
        Map<String, Page> beating = new ConcurrentHashMap<>();
        Map<String, ApiClient.Session> sessions = open("flood", 20, beating);
        List<String> live = beating.keySet().stream().sorted().toList();
        // The route throttle at a tenth of the template's (20/s, burst 40), the flood at ten times it: 200 made-up
        // ids a second for 30 s, from anyone (no token, no session). Real beats then mostly get 429, as in AWS.
        stack.front().throttle(FLOOD_DRILL_RATE, 2 * FLOOD_DRILL_RATE);
        int refusedBefore = refused();
        java.util.concurrent.atomic.AtomicInteger sent = new java.util.concurrent.atomic.AtomicInteger();
        // Nobody is set Offline while it lasts.
        flood(10 * FLOOD_DRILL_RATE, sent, () -> await().during(Duration.ofSeconds(30)).atMost(Duration.ofSeconds(35))
                .until(() -> offlineCalls(live) == 0));
        restoreTemplateThrottle();
        int refusedDuring = refused() - refusedBefore;
        // After it, the beats land again; still nobody Offline a stale limit and more later.
        await().during(STALE_AFTER.plusSeconds(5)).atMost(STALE_AFTER.plusSeconds(10)).until(() -> offlineCalls(live) == 0);
        assertThat(live).allSatisfy(user -> assertThat(status(user)).isEqualTo("Available"));
        assertThat(refusedDuring).as("the API's 4xx count moved (Api4xxSpikeAlarm's metric)").isGreaterThan(sent.get() / 2);
        System.out.printf("Flood drill: %d made-up heartbeats in 30 s against a 20/s route throttle; %d refused (429 or 404);"
                + " %d of 20 live agents set Offline%n", sent.get(), refusedDuring, offlineCalls(live));
        closeAll(beating, sessions);
    }

    @Test
    void aFloodAtThreeTimesTheRouteLimit_should_setNobodyOffline_andOnlyThePagesKilledDuringIt_afterIt() throws Exception {
        Instant start = Instant.now();
        Map<String, Page> beating = new ConcurrentHashMap<>();
        Map<String, ApiClient.Session> sessions = open("mflood", 20, beating);
        List<String> users = beating.keySet().stream().sorted().toList();
        List<String> killed = List.of("mflood-02", "mflood-09", "mflood-15");
        List<String> stayed = users.stream().filter(user -> !killed.contains(user)).toList();
        stack.front().throttle(FLOOD_DRILL_RATE, 2 * FLOOD_DRILL_RATE);
        java.util.concurrent.atomic.AtomicInteger sent = new java.util.concurrent.atomic.AtomicInteger();
        // 60 made-up ids a second for 30 s (3 minutes deployed); 3 pages die as it starts.
        flood(3 * FLOOD_DRILL_RATE, sent, () -> {
            killed.forEach(user -> beating.remove(user).cancel(false));
            await().during(Duration.ofSeconds(30)).atMost(Duration.ofSeconds(35)).until(() -> offlineCalls(users) == 0);
        });
        // The flood ended when the API answered its last request (a busy machine answers a backlog after the sender stops).
        java.util.Set<String> real = sessions.values().stream().map(ApiClient.Session::id).collect(java.util.stream.Collectors.toSet());
        Instant end = stack.accessEntries().stream().filter(e -> e.line().contains("/heartbeat"))
                .filter(e -> real.stream().noneMatch(e.line()::contains)).map(backstop.local.LocalFront.AccessEntry::arrived)
                .max(Instant::compareTo).orElseThrow();
        restoreTemplateThrottle();
        List<JsonNode> suspected = outageEvents("Heartbeat Outage Suspected", start);
        await().atMost(Duration.ofSeconds(25)).until(() -> killed.stream().allMatch(user -> "Offline".equals(status(user))));
        Instant allKilledOffline = Instant.now();

        assertThat(suspected).as("the brake engaged for the flood").singleElement()
                .satisfies(event -> assertThat(event.path("detail").path("cause").asText()).isEqualTo("flood"));
        assertThat(stayed).as("the 17 who kept working").allSatisfy(user -> assertThat(status(user)).isEqualTo("Available"));
        assertThat(offlineCalls(stayed)).as("PutUserStatus calls for them").isZero();
        System.out.printf("Flood drill at 3x the route limit (1/6 time): %d made-up heartbeats in 30 s against %d/s;"
                        + " 0 agents Offline during it; the 3 killed pages Offline %d ms after its end; %d of 17 live agents set Offline%n",
                sent.get(), FLOOD_DRILL_RATE, Duration.between(end, allKilledOffline).toMillis(), offlineCalls(stayed));
        assertThat(Duration.between(end, allKilledOffline)).as("the killed Offline within 15 s of the flood's end (90 s deployed)")
                .isLessThanOrEqualTo(Duration.ofSeconds(17));
        closeAll(beating, sessions);
    }

    /**
     * Sends {@code perSecond} heartbeats with made-up ids (anyone's: no session, no token of one) while {@code during}
     * runs, counting them in {@code sent}.
     */
    static void flood(int perSecond, java.util.concurrent.atomic.AtomicInteger sent, Runnable during) {
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        java.security.SecureRandom random = new java.security.SecureRandom();
        ScheduledExecutorService flood = Executors.newScheduledThreadPool(4);
        List<java.util.concurrent.CompletableFuture<?>> answers = new java.util.concurrent.CopyOnWriteArrayList<>();
        try {
            int perTick = Math.max(1, perSecond / 100); // every 10 ms
            flood.scheduleAtFixedRate(() -> {
                for (int i = 0; i < perTick; i++) {
                    byte[] id = new byte[24];
                    random.nextBytes(id);
                    String path = "/sessions/" + java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(id) + "/heartbeat";
                    answers.add(http.sendAsync(java.net.http.HttpRequest.newBuilder(stack.frontUrl().resolve(path))
                            .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"token\":\"" + "A".repeat(43) + "\"}"))
                            .header("Content-Type", "text/plain").build(), java.net.http.HttpResponse.BodyHandlers.discarding()));
                    sent.incrementAndGet();
                }
            }, 0, 1000L * perTick / perSecond, TimeUnit.MILLISECONDS);
            during.run();
        } finally {
            flood.shutdownNow();
        }
        // Every request sent has its answer (or its failure) before the flood counts as over.
        await().atMost(Duration.ofSeconds(60)).until(() -> answers.stream().allMatch(java.util.concurrent.CompletableFuture::isDone));
    }

    /** Requests the front refused with a 4xx so far (its access log: the API's 4xx metric). */
    static int refused() {
        return (int) stack.accessLog().stream().filter(line -> line.matches(".* 4\\d\\d( .*)?")).count();
    }

    /** The template's own throttle back on the local front. */
    static void restoreTemplateThrottle() {
        var throttle = backstop.local.aws.TemplateResources.load(backstop.local.aws.TemplateResources.findTemplate()).routeThrottle("HttpApi");
        stack.front().throttle(throttle.rate(), throttle.burst());
    }
}

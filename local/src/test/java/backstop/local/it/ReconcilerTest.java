package backstop.local.it;

import backstop.local.Waits;
import backstop.core.config.BackstopConfig;
import backstop.core.session.DynamoSessionStore;
import backstop.core.session.DynamoTransitionStore;
import backstop.core.transition.OfflineTransitions;
import backstop.core.transition.TransitionQueue;
import backstop.core.session.SessionId;
import backstop.core.session.SessionStore;
import backstop.core.session.SessionToken;
import backstop.core.aws.ClientPolicies;
import backstop.core.session.TableLayout;
import backstop.core.transition.Transition;
import backstop.local.DemoInstance;
import backstop.local.LocalStack;
import backstop.local.connect.AgentStatusType;
import backstop.local.connect.ConnectCall;
import backstop.local.connect.ConnectEmulator;
import backstop.local.connect.OperationFault;
import backstop.local.connect.Quota;
import backstop.reconciler.Reconciler;
import backstop.reconciler.ReconcilerMetrics;
import backstop.reconciler.ReconcilerWiring;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The reconciler against moto and the Connect emulator, on a clock the test moves: stale sessions, races,
 * faults, crashes, concurrency and the quota.
 */
class ReconcilerTest {
    static LocalStack stack;
    static ApiClient api;
    static ConnectEmulator connect;
    static DynamoSessionStore store;
    static DynamoTransitionStore transitions;
    MutableClock clock;

    @BeforeAll
    static void start() throws Exception {
        // Hundreds of agents register here for the first time, each with a DescribeUser the beacon paces at
        // CONNECT_RATE_PER_SECOND per container: set out of the way (the reconcilers below set their own rate).
        stack = LocalStack.start(LocalStack.Options.forTests().withEnvironment(Map.of("CONNECT_RATE_PER_SECOND", "100")));
        api = new ApiClient(stack);
        connect = stack.connect();
        store = new DynamoSessionStore(stack.reconcilerClients().dynamoDb(), stack.config().sessionsTable());
        transitions = new DynamoTransitionStore(stack.reconcilerClients().dynamoDb(), stack.config().sessionsTable());
    }

    @AfterAll
    static void stop() {
        stack.close();
    }

    @BeforeEach
    void clockAtNow() {
        clock = new MutableClock(Instant.now());
        connect.setQuota(Quota.OFF);
    }

    @AfterEach
    void clearFaults() {
        connect.clearFaults();
        connect.setQuota(Quota.OFF);
    }

    Reconciler reconciler(Map<String, String> overrides) {
        return reconciler(overrides, store, transitions);
    }

    Reconciler reconciler(Map<String, String> overrides, SessionStore sessions, TransitionQueue queue) {
        Map<String, String> env = new HashMap<>(stack.environment());
        env.put("CONNECT_RATE_PER_SECOND", "100");
        env.putAll(overrides);
        return ReconcilerWiring.reconciler(BackstopConfig.fromEnvironment(env), sessions, queue, stack.reconcilerClients(), clock,
                wake -> { }, ReconcilerMetrics.NONE);
    }

    static String newAgent(String status) {
        String userId = "rec-" + UUID.randomUUID();
        connect.addAgent(stack.instanceId(), userId, userId, "Stale", "Agent", "rp-support", status);
        return userId;
    }

    static String arn(String userId) {
        return DemoInstance.instanceArn(stack.instanceId()) + "/agent/" + userId;
    }

    static List<ConnectCall> puts(String userId) {
        return connect.calls(ConnectEmulator.PUT_USER_STATUS).stream().filter(c -> userId.equals(c.userId())).toList();
    }

    static String status(String userId) {
        return connect.agentView(stack.instanceId(), userId).statusName();
    }

    static Map<String, AttributeValue> item(String pk, String sk) {
        return stack.clients().dynamoDb().getItem(r -> r.tableName(stack.config().sessionsTable())
                .key(Map.of("pk", AttributeValue.fromS(pk), "sk", AttributeValue.fromS(sk))).consistentRead(true)).item();
    }

    @Test
    void staleSession_should_beClosedAndAgentSetOffline_when_heartbeatsStop() {
        String user = newAgent("Available");
        ApiClient.Session session = api.open(arn(user));
        Reconciler reconciler = reconciler(Map.of());

        clock.advance(Duration.ofSeconds(60));
        assertThat(reconciler.sweepOnce().staleClosed()).isZero();
        assertThat(status(user)).isEqualTo("Available");

        clock.advance(Duration.ofSeconds(16)); // 76 s without a heartbeat: past STALE_AFTER_SECONDS=75
        assertThat(reconciler.sweepOnce().staleClosed()).isGreaterThanOrEqualTo(1);

        assertThat(status(user)).isEqualTo("Offline");
        assertThat(puts(user)).singleElement().satisfies(c ->
                assertThat(c.statusId()).isEqualTo(connect.statusId(stack.instanceId(), AgentStatusType.OFFLINE)));
        Map<String, AttributeValue> closed = item("SESSION#" + session.id(), "SESSION");
        assertThat(closed.get("sessionState").s()).isEqualTo("CLOSED");
        assertThat(closed.get("closeReason").s()).isEqualTo("stale");
        assertThat(item("TRANSITION#" + session.id(), "TRANSITION").get("transitionState").s()).isEqualTo("DONE");
        await().atMost(Waits.PROMPT).untilAsserted(() ->
                assertThat(stack.events().events("Agent Set Offline", "userId", user)).singleElement()
                        .satisfies(e -> assertThat(e.path("detail").path("reason").asText()).isEqualTo("stale-session")));
        assertThat(api.heartbeat(session).status()).as("the page learns it was closed").isEqualTo(410);
    }

    @Test
    void heartbeat_should_winTheRace_when_itArrivesWhileTheStaleCloseIsUnderWay() {
        String user = newAgent("Available");
        ApiClient.Session session = api.open(arn(user));
        SessionToken token = SessionToken.parse(session.token());
        // Between finding the session stale and closing it, its heartbeat lands.
        SessionStore racing = (SessionStore) Proxy.newProxyInstance(SessionStore.class.getClassLoader(),
                new Class<?>[] {SessionStore.class}, (proxy, method, args) -> {
                    if (method.getName().equals("close")) {
                        store.heartbeat(new SessionId(session.id()), token, Optional.empty(), clock.instant());
                    }
                    try {
                        return method.invoke(store, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        clock.advance(Duration.ofSeconds(90));

        reconciler(Map.of(), racing, transitions).sweepOnce();

        assertThat(item("SESSION#" + session.id(), "SESSION").get("sessionState").s()).isEqualTo("OPEN");
        assertThat(item("TRANSITION#" + session.id(), "TRANSITION")).isEmpty();
        assertThat(puts(user)).isEmpty();
        assertThat(status(user)).isEqualTo("Available");
    }

    @Test
    void crashedTab_should_keepAgentOnline_when_anotherTabStillHeartbeats_andGoOffline_whenThatOneCrashesToo() {
        String user = newAgent("Available");
        ApiClient.Session first = api.open(arn(user));
        ApiClient.Session second = api.open(arn(user));
        // Counted from the registers (a cold first register on a busy machine took 6 s of the 5 s margin over
        // STALE_AFTER): the silences below are then exactly what the comments say.
        clock = new MutableClock(Instant.now());
        Reconciler reconciler = reconciler(Map.of());

        clock.advance(Duration.ofSeconds(70));
        store.heartbeat(new SessionId(second.id()), SessionToken.parse(second.token()), Optional.empty(), clock.instant());
        clock.advance(Duration.ofSeconds(10)); // first: 80 s silent; second: 10 s
        reconciler.sweepOnce();

        assertThat(item("SESSION#" + first.id(), "SESSION").get("sessionState").s()).isEqualTo("CLOSED");
        assertThat(item("SESSION#" + first.id(), "SESSION").get("closeOutcome").s()).isEqualTo("not-needed");
        assertThat(puts(user)).isEmpty();
        assertThat(status(user)).isEqualTo("Available");

        clock.advance(Duration.ofSeconds(80));
        reconciler.sweepOnce();

        assertThat(status(user)).isEqualTo("Offline");
        assertThat(puts(user)).hasSize(1);
    }

    /**
     * Past the beacon's first backoff: 2.5 to 5 s after its failed attempt by the wall clock the beacon runs on. The
     * test's clock started with the test, and a busy machine may spend seconds on the registers and closes before it.
     */
    void pastTheBeaconsBackoff() {
        clock.set(Instant.now().plusSeconds(10));
    }

    @Test
    void retry_should_setOfflineWithReasonRetry_when_theBeaconsAttemptFailed() {
        String user = newAgent("Available");
        ApiClient.Session session = api.open(arn(user));
        connect.setFault(ConnectEmulator.PUT_USER_STATUS, OperationFault.errors(1.0));
        assertThat(api.close(session).text("offline")).isEqualTo("pending");
        connect.clearFaults();
        connect.setQuota(Quota.OFF);
        Reconciler reconciler = reconciler(Map.of());

        reconciler.sweepOnce();
        assertThat(status(user)).as("not due yet: backoff").isEqualTo("Available");

        pastTheBeaconsBackoff();
        reconciler.sweepOnce();

        assertThat(status(user)).isEqualTo("Offline");
        assertThat(puts(user)).as("the beacon's two attempts, then exactly one paced call from the reconciler")
                .hasSize(ClientPolicies.BEACON.connect().maxAttempts() + 1);
        Map<String, AttributeValue> transition = item("TRANSITION#" + session.id(), "TRANSITION");
        assertThat(transition.get("transitionState").s()).isEqualTo("DONE");
        assertThat(transition).doesNotContainKey(TableLayout.DUE_SHARD);
        await().atMost(Waits.PROMPT).untilAsserted(() ->
                assertThat(stack.events().events("Agent Set Offline", "userId", user)).singleElement().satisfies(e -> {
                    assertThat(e.path("detail").path("reason").asText()).isEqualTo("retry");
                    assertThat(e.path("detail").path("attempts").asInt()).isEqualTo(2);
                }));
    }

    @Test
    void failed_should_keepTryingInTheSlowLane_andSayRecovered_when_connectComesBack_orBeGivenUpAfterADay() {
        String user = newAgent("Available");
        String hopeless = newAgent("Available");
        ApiClient.Session session = api.open(arn(user));
        ApiClient.Session lost = api.open(arn(hopeless));
        connect.setFault(ConnectEmulator.PUT_USER_STATUS, OperationFault.errors(1.0));
        assertThat(api.close(session).text("offline")).isEqualTo("pending");
        assertThat(api.close(lost).text("offline")).isEqualTo("pending");
        Reconciler reconciler = reconciler(Map.of("MAX_ATTEMPTS", "2"));

        pastTheBeaconsBackoff();
        reconciler.sweepOnce(); // the second and last fast-lane attempt fails: FAILED, on-call alarmed
        Map<String, AttributeValue> failed = item("TRANSITION#" + session.id(), "TRANSITION");
        assertThat(failed.get("transitionState").s()).isEqualTo("FAILED");
        assertThat(failed).as("still in the due index: the slow lane").containsKey(TableLayout.DUE_SHARD);
        await().atMost(Waits.PROMPT).untilAsserted(() ->
                assertThat(stack.events().events("Agent Offline Failed", "userId", user)).hasSize(1));

        clock.advance(OfflineTransitions.SLOW_LANE_PERIOD);
        reconciler.sweepOnce(); // Connect still failing: FAILED again, no second alarm
        assertThat(item("TRANSITION#" + session.id(), "TRANSITION").get("attempts").n()).isEqualTo("3");

        connect.clearFaults();
        connect.setQuota(Quota.OFF);
        connect.setUserFault(hopeless, 500); // only this agent's calls keep failing
        clock.advance(OfflineTransitions.SLOW_LANE_PERIOD);
        reconciler.sweepOnce();

        assertThat(status(user)).isEqualTo("Offline");
        assertThat(item("TRANSITION#" + session.id(), "TRANSITION").get("transitionState").s()).isEqualTo("DONE");
        await().atMost(Waits.PROMPT).untilAsserted(() ->
                assertThat(stack.events().events("Agent Set Offline", "userId", user)).singleElement().satisfies(e -> {
                    assertThat(e.path("detail").path("recovered").asBoolean()).isTrue();
                    assertThat(e.path("detail").path("reason").asText()).isEqualTo("retry");
                    assertThat(e.path("detail").path("attempts").asInt()).isEqualTo(4);
                }));
        assertThat(stack.events().events("Agent Offline Failed", "userId", user)).as("one alarm for the whole episode").hasSize(1);

        clock.advance(OfflineTransitions.SLOW_LANE_HORIZON);
        reconciler.sweepOnce(); // a day after it failed: the slow lane gives it up
        Map<String, AttributeValue> givenUp = item("TRANSITION#" + lost.id(), "TRANSITION");
        assertThat(givenUp.get("transitionState").s()).isEqualTo("FAILED");
        assertThat(givenUp).as("out of the due index for good").doesNotContainKey(TableLayout.DUE_SHARD);
        assertThat(status(hopeless)).isEqualTo("Available");
    }

    @Test
    void transition_should_endNotNeeded_when_agentIsAlreadyOfflineOrWorkingAgain() {
        String offline = newAgent("Available");
        String back = newAgent("Available");
        ApiClient.Session offlineSession = api.open(arn(offline));
        ApiClient.Session backSession = api.open(arn(back));
        // Throttled: the close's call cannot have landed, so the Offline found later is the agent's own doing. (After
        // a 5xx it may have landed: that retry publishes Agent Set Offline, EventOutboxTest.)
        connect.setFault(ConnectEmulator.PUT_USER_STATUS, new OperationFault(1.0, 429, "ThrottlingException", 0));
        api.close(offlineSession);
        api.close(backSession);
        connect.clearFaults();
        connect.setQuota(Quota.OFF);
        connect.setStatusFromCcp(stack.instanceId(), offline, connect.statusId(stack.instanceId(), AgentStatusType.OFFLINE));
        api.open(arn(back)); // reopened the CCP: working again
        pastTheBeaconsBackoff();

        reconciler(Map.of()).sweepOnce();

        assertThat(puts(offline)).filteredOn(ConnectCall::ok).isEmpty();
        assertThat(puts(back)).filteredOn(ConnectCall::ok).isEmpty();
        assertThat(status(back)).isEqualTo("Available");
        assertThat(item("TRANSITION#" + offlineSession.id(), "TRANSITION").get("transitionState").s()).isEqualTo("NOT_NEEDED");
        assertThat(item("TRANSITION#" + backSession.id(), "TRANSITION").get("transitionState").s()).isEqualTo("NOT_NEEDED");
        assertThat(stack.events().events("Agent Set Offline", "userId", offline)).as("NOT_NEEDED publishes nothing").isEmpty();
    }

    @Test
    void liveContact_should_setOfflineAsNextStatus_andReportDeferred() {
        String user = newAgent("Available");
        ApiClient.Session session = api.open(arn(user));
        connect.startContact(stack.instanceId(), user);
        clock.advance(Duration.ofSeconds(80));

        reconciler(Map.of()).sweepOnce();

        ConnectEmulator.AgentView view = connect.agentView(stack.instanceId(), user);
        assertThat(view.statusName()).as("the call is not cut").isEqualTo("Available");
        assertThat(view.nextStatusName()).isEqualTo("Offline");
        await().atMost(Waits.PROMPT).untilAsserted(() ->
                assertThat(stack.events().events("Agent Set Offline", "userId", user)).singleElement()
                        .satisfies(e -> assertThat(e.path("detail").path("deferred").asBoolean()).isTrue()));
        connect.endContact(stack.instanceId(), user);
        assertThat(status(user)).isEqualTo("Offline");
        assertThat(item("TRANSITION#" + session.id(), "TRANSITION").get("appliedAsNextStatus").bool()).isTrue();
    }

    @Test
    void crashedReconciler_should_leaveItsClaimToTheNextRun_when_killedAfterClaiming() {
        String user = newAgent("Available");
        ApiClient.Session session = api.open(arn(user));
        clock = new MutableClock(Instant.now()); // counted from the register, as above
        clock.advance(Duration.ofSeconds(80));
        Reconciler reconciler = reconciler(Map.of());
        // A run closes the stale session (creating the transition) and claims it, but the claim's answer never
        // comes back (the run was killed, the connection dropped): the claim is in the table, the run goes on
        // without the transition, and nothing calls Connect for it.
        TransitionQueue dying = (TransitionQueue) Proxy.newProxyInstance(TransitionQueue.class.getClassLoader(),
                new Class<?>[] {TransitionQueue.class}, (proxy, method, args) -> {
                    Object result;
                    try {
                        result = method.invoke(transitions, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                    if (method.getName().equals("claim") && ((Optional<?>) result).isPresent()) {
                        throw new IllegalStateException("reconciler killed after claiming");
                    }
                    return result;
                });
        Reconciler.Summary killed = reconciler(Map.of(), store, dying).sweepOnce();

        assertThat(killed.staleClosed()).isEqualTo(1);
        assertThat(killed.transitionsClaimed()).as("the claim's answer was lost").isZero();
        Transition claimed = transitions.findTransition(new SessionId(session.id())).orElseThrow();
        assertThat(claimed.claim()).isPresent();
        assertThat(puts(user)).isEmpty();

        reconciler.sweepOnce();
        assertThat(puts(user)).as("the lease still holds").isEmpty();

        clock.advance(Duration.ofMinutes(2)); // past the lease
        reconciler.sweepOnce();

        assertThat(puts(user)).hasSize(1);
        assertThat(status(user)).isEqualTo("Offline");
    }

    @Test
    void connectFaults_should_leaveEveryAgentOfflineOrFailed_withItsEventsOnce_over200Agents() {
        List<String> users = new ArrayList<>();
        Map<String, ApiClient.Session> sessions = new HashMap<>();
        for (int i = 0; i < 200; i++) {
            String user = newAgent("Available");
            users.add(user);
            sessions.put(user, api.open(arn(user)));
        }
        // 30% of PutUserStatus fail with 500 and answer after 2 s; GetCurrentUserData is throttled 20% of the time.
        connect.setFault(ConnectEmulator.PUT_USER_STATUS, new OperationFault(0.3, 500, "InternalServiceException", 2000));
        connect.setFault(ConnectEmulator.GET_CURRENT_USER_DATA, new OperationFault(0.2, 429, "ThrottlingException", 0));
        clock = new MutableClock(Instant.now()); // registering 200 agents took a while: count from the last one
        Reconciler reconciler = reconciler(Map.of("MAX_ATTEMPTS", "4"));

        clock.advance(Duration.ofSeconds(80));
        // Rounds 5 minutes apart (the backoff's longest step) until no transition is PENDING any more. A FAILED
        // one stays in the slow lane and may be tried again (15 minutes after it failed) before the rounds end.
        for (int round = 0; round < 12 && (round == 0 || users.stream().anyMatch(u -> state(sessions.get(u)).equals("PENDING"))); round++) {
            reconciler.sweepOnce();
            clock.advance(Duration.ofMinutes(5));
        }

        Map<String, String> finalState = new HashMap<>();
        for (String user : users) {
            String state = state(sessions.get(user));
            long okPuts = puts(user).stream().filter(ConnectCall::ok).count();
            switch (state) {
                case "DONE" -> {
                    assertThat(okPuts).as("one effective PutUserStatus for %s", user).isEqualTo(1);
                    assertThat(status(user)).isEqualTo("Offline");
                }
                case "FAILED" -> assertThat(okPuts).isZero();
                // A call that landed in Connect but whose answer timed out: the next check finds the agent
                // Offline and spends no second PutUserStatus.
                case "NOT_NEEDED" -> {
                    assertThat(okPuts).isEqualTo(1);
                    assertThat(status(user)).isEqualTo("Offline");
                }
                default -> throw new AssertionError(user + " ended " + state);
            }
            finalState.put(user, state);
        }
        // Each agent's events tell its story once: Set Offline; or Offline Failed (on-call) and, if the slow lane
        // then succeeded, Set Offline marked recovered; nothing twice.
        await().atMost(Waits.PROMPT).untilAsserted(() -> {
            Map<String, List<JsonNode>> events = stack.events().events().stream()
                    .filter(e -> users.contains(e.path("detail").path("userId").asText()))
                    .collect(Collectors.groupingBy(e -> e.path("detail").path("userId").asText()));
            for (String user : users) {
                List<String> story = events.getOrDefault(user, List.of()).stream()
                        .map(e -> e.path("detail-type").asText() + (e.path("detail").path("recovered").asBoolean() ? " (recovered)" : ""))
                        .toList();
                switch (finalState.get(user)) {
                    case "DONE" -> assertThat(story).as("events of %s", user).isIn(List.of("Agent Set Offline"),
                            List.of("Agent Offline Failed", "Agent Set Offline (recovered)"));
                    case "FAILED" -> assertThat(story).as("events of %s", user).containsExactly("Agent Offline Failed");
                    default -> assertThat(story).as("events of %s", user).isIn(List.of(), List.of("Agent Offline Failed"));
                }
            }
        });
    }

    static String state(ApiClient.Session session) {
        return item("TRANSITION#" + session.id(), "TRANSITION").get("transitionState").s();
    }

    @Test
    void twoReconcilers_should_setEachAgentOfflineExactlyOnce_when_racingOver500StaleSessions() throws Exception {
        List<String> users = staleSessions(500, Duration.ofMinutes(5));
        Reconciler a = reconciler(Map.of("CONNECT_RATE_PER_SECOND", "100"));
        Reconciler b = reconciler(Map.of("CONNECT_RATE_PER_SECOND", "100"));
        CyclicBarrier start = new CyclicBarrier(2);

        CompletableFuture<Reconciler.Summary> first = CompletableFuture.supplyAsync(() -> { meet(start); return a.sweepOnce(); });
        CompletableFuture<Reconciler.Summary> second = CompletableFuture.supplyAsync(() -> { meet(start); return b.sweepOnce(); });
        int closed = first.get().staleClosed() + second.get().staleClosed();

        assertThat(closed).as("each stale session closed by exactly one of them").isEqualTo(500);
        Map<String, Long> putsByUser = connect.calls(ConnectEmulator.PUT_USER_STATUS).stream()
                .filter(c -> users.contains(c.userId()))
                .collect(Collectors.groupingBy(ConnectCall::userId, Collectors.counting()));
        assertThat(putsByUser).hasSize(500);
        assertThat(putsByUser.values()).allMatch(n -> n == 1);
    }

    /** What a wave of crashes leaves: sessions silent since {@code silentFor} ago. */
    List<String> staleSessions(int count, Duration silentFor) {
        return List.copyOf(backstop.local.CrashedTabs.seed(stack, count, "rec", clock.instant().minus(silentFor)).keySet());
    }

    private static void meet(CyclicBarrier barrier) {
        try {
            barrier.await();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}

package backstop.local.it;

import backstop.core.config.BackstopConfig;
import backstop.core.session.DynamoSessionStore;
import backstop.core.session.HeartbeatResult;
import backstop.core.session.SessionId;
import backstop.core.session.SessionToken;
import backstop.local.DemoInstance;
import backstop.local.LocalStack;
import backstop.local.Waits;
import backstop.local.connect.ConnectCall;
import backstop.local.connect.ConnectEmulator;
import backstop.local.connect.Quota;
import backstop.reconciler.Reconciler;
import backstop.reconciler.ReconcilerMetrics;
import backstop.reconciler.ReconcilerWiring;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Sessions that end by themselves (MAX_SESSION_HOURS), through the real beacon and reconciler against moto and the
 * Connect emulator. The stack's beacon runs on the wall clock, so a session is made old by moving its register time
 * back in the table (what it would read after MAX_SESSION_HOURS); the reconciler runs on a clock the test moves.
 */
class SessionLifetimeTest {
    static LocalStack stack;
    static ApiClient api;
    static ConnectEmulator connect;
    static BackstopConfig config;

    @BeforeAll
    static void start() throws Exception {
        stack = LocalStack.start(LocalStack.Options.forTests().withEnvironment(Map.of("CONNECT_RATE_PER_SECOND", "100")));
        api = new ApiClient(stack);
        connect = stack.connect();
        connect.setQuota(Quota.OFF);
        config = stack.config();
    }

    @AfterAll
    static void stop() {
        stack.close();
    }

    static String newAgent() {
        String userId = "life-" + UUID.randomUUID();
        connect.addAgent(stack.instanceId(), userId, userId, "Long", "Shift", "rp-support", "Available");
        return userId;
    }

    static String arn(String userId) {
        return DemoInstance.instanceArn(stack.instanceId()) + "/agent/" + userId;
    }

    static Map<String, AttributeValue> item(String pk, String sk) {
        return stack.clients().dynamoDb().getItem(r -> r.tableName(config.sessionsTable())
                .key(Map.of("pk", AttributeValue.fromS(pk), "sk", AttributeValue.fromS(sk))).consistentRead(true)).item();
    }

    /** The session was registered {@code age} ago: the time the beacon compares with MAX_SESSION_HOURS. */
    static void registeredAgo(ApiClient.Session session, Duration age) {
        stack.clients().dynamoDb().updateItem(r -> r.tableName(config.sessionsTable())
                .key(Map.of("pk", AttributeValue.fromS("SESSION#" + session.id()), "sk", AttributeValue.fromS("SESSION")))
                .updateExpression("SET createdAt = :then")
                .expressionAttributeValues(Map.of(":then", AttributeValue.fromN(String.valueOf(Instant.now().minus(age).toEpochMilli())))));
    }

    /** The backstop's own Connect calls (signed ones; the emulated CCP's status changes are not) since {@code mark}. */
    static List<ConnectCall> backstopCallsSince(int mark) {
        List<ConnectCall> calls = connect.calls();
        return calls.subList(mark, calls.size()).stream().filter(c -> c.accessKeyId() != null).toList();
    }

    static Reconciler reconcilerAt(Instant at) {
        Map<String, String> env = new HashMap<>(stack.environment());
        return ReconcilerWiring.reconciler(BackstopConfig.fromEnvironment(env), stack.reconcilerClients(),
                java.time.Clock.fixed(at, java.time.ZoneOffset.UTC), wake -> { }, ReconcilerMetrics.NONE);
    }

    static List<String> openSessions(String userId) {
        Map<String, AttributeValue> agent = item("AGENT#" + stack.instanceId() + "#" + userId, "AGENT");
        return agent.containsKey("openSessions") ? agent.get("openSessions").ss() : List.of();
    }

    @Test
    void shiftPastItsMaximumAge_should_get410_registerAgain_andStayAvailable_withNoConnectCallAndNoOffline() {
        // Twenty agents of one shift, registered MAX_SESSION_HOURS ago (their profiles read at 8:00, within 12 h).
        List<String> users = new ArrayList<>();
        List<ApiClient.Session> old = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            String user = newAgent();
            users.add(user);
            ApiClient.Session session = api.open(arn(user));
            registeredAgo(session, Duration.ofHours(config.maxSessionHours()));
            old.add(session);
        }
        int mark = connect.calls().size();
        Instant expiredAt = Instant.now();

        List<ApiClient.Session> renewed = new ArrayList<>();
        for (int i = 0; i < users.size(); i++) {
            ApiClient.Response beat = api.heartbeat(old.get(i));
            assertThat(beat.status()).isEqualTo(410);
            assertThat(beat.text("error")).isEqualTo("session_expired");
            Map<String, AttributeValue> closed = item("SESSION#" + old.get(i).id(), "SESSION");
            assertThat(closed.get("sessionState").s()).isEqualTo("CLOSED");
            assertThat(closed.get("closeReason").s()).isEqualTo("expired");
            Map<String, AttributeValue> waiting = item("TRANSITION#" + old.get(i).id(), "TRANSITION");
            assertThat(waiting.get("transitionState").s()).isEqualTo("PENDING");
            assertThat(waiting.get("reason").s()).isEqualTo("session-expired");
            assertThat(Instant.ofEpochMilli(Long.parseLong(waiting.get("nextAttemptAt").n())))
                    .as("the Offline waits a stale limit for the page's new register")
                    .isAfterOrEqualTo(expiredAt.plusSeconds(config.staleAfterSeconds()));
            // The page registers again with its agent's token: a new session, none counted for the expired one.
            ApiClient.Response again = api.register(arn(users.get(i)));
            assertThat(again.status()).isEqualTo(201);
            assertThat(again.body().path("otherSessions").asInt()).isZero();
            renewed.add(new ApiClient.Session(again.text("sessionId"), again.text("token")));
        }
        assertThat(api.heartbeat(old.getFirst()).status()).as("the old token stays refused").isEqualTo(410);

        // A stale limit later (the new sessions beating meanwhile, as their pages do) the reconciler finds each
        // agent working in the new session: nothing to do.
        Instant later = Instant.now().plusSeconds(config.staleAfterSeconds() + 1);
        DynamoSessionStore store = new DynamoSessionStore(stack.reconcilerClients().dynamoDb(), config.sessionsTable());
        for (ApiClient.Session session : renewed) {
            assertThat(store.heartbeat(new SessionId(session.id()), SessionToken.parse(session.token()), Optional.empty(),
                    later.minusSeconds(config.heartbeatSeconds())).result()).isEqualTo(HeartbeatResult.RECORDED);
        }
        Reconciler reconciler = reconcilerAt(later);
        reconciler.sweepOnce();

        for (int i = 0; i < users.size(); i++) {
            assertThat(item("TRANSITION#" + old.get(i).id(), "TRANSITION").get("transitionState").s()).isEqualTo("NOT_NEEDED");
            assertThat(connect.agentView(stack.instanceId(), users.get(i)).statusName()).isEqualTo("Available");
            assertThat(openSessions(users.get(i))).containsExactly(renewed.get(i).id());
        }
        assertThat(backstopCallsSince(mark)).as("410, close, register and the reconciler's check: no Connect call at all").isEmpty();
        assertThat(stack.events().events("Agent Set Offline", "userId", users.getFirst())).isEmpty();
    }

    @Test
    void stolenSessionToken_should_stopKeepingACrashedTabsAgentAvailable_afterMaximumAge() {
        String user = newAgent();
        ApiClient.Session session = api.open(arn(user));
        // The tab crashed; someone who kept its session token beats for it ever since.
        registeredAgo(session, Duration.ofHours(config.maxSessionHours()));

        assertThat(api.heartbeat(session).status()).isEqualTo(410);
        assertThat(api.heartbeat(session).status()).as("and at every beat after").isEqualTo(410);
        assertThat(connect.agentView(stack.instanceId(), user).statusName()).as("nothing set Offline at once").isEqualTo("Available");

        // No page registers again: a stale limit later the reconciler sets the agent Offline.
        reconcilerAt(Instant.now().plusSeconds(config.staleAfterSeconds() + 1)).sweepOnce();

        assertThat(connect.agentView(stack.instanceId(), user).statusName()).isEqualTo("Offline");
        await().atMost(Waits.PROMPT).untilAsserted(() ->
                assertThat(stack.events().events("Agent Set Offline", "userId", user)).singleElement()
                        .satisfies(e -> assertThat(e.path("detail").path("reason").asText()).isEqualTo("session-expired")));
    }

    @Test
    void expiringSession_should_notBlockTheNewRegister_when_theAgentIsAtTheSessionCap() {
        String user = newAgent();
        List<ApiClient.Session> open = new ArrayList<>();
        for (int i = 0; i < config.maxSessionsPerAgent(); i++) {
            open.add(api.open(arn(user)));
        }
        assertThat(api.register(arn(user)).status()).as("at the cap").isEqualTo(429);
        registeredAgo(open.getFirst(), Duration.ofHours(config.maxSessionHours()).plusMinutes(1));

        assertThat(api.heartbeat(open.getFirst()).status()).isEqualTo(410);

        assertThat(api.register(arn(user)).status()).as("the expired session's place is free at once").isEqualTo(201);
        assertThat(item("SESSION#" + open.getFirst().id(), "SESSION").get("closeOutcome").s())
                .as("other sessions open: its close needs no Offline").isEqualTo("not-needed");
        assertThat(item("TRANSITION#" + open.getFirst().id(), "TRANSITION")).isEmpty();
        assertThat(api.heartbeat(open.get(1)).status()).as("younger sessions beat on").isEqualTo(200);
    }
}

package backstop.local.it;

import backstop.local.Waits;
import backstop.core.session.SessionId;
import backstop.core.aws.ClientPolicies;
import backstop.core.session.TableLayout;
import backstop.local.DemoInstance;
import backstop.local.LocalStack;
import backstop.local.connect.AgentStatusType;
import backstop.local.connect.ConnectCall;
import backstop.local.connect.ConnectEmulator;
import backstop.local.connect.OperationFault;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The three routes end to end: real HTTP into the local front, the beacon handler, the real AWS SDK against
 * moto (DynamoDB, EventBridge) and the Connect emulator.
 */
class BeaconFlowTest {
    static LocalStack stack;
    static ApiClient api;
    static ConnectEmulator connect;
    static String instanceId;

    @BeforeAll
    static void start() throws Exception {
        stack = LocalStack.start(LocalStack.Options.forTests());
        api = new ApiClient(stack);
        connect = stack.connect();
        instanceId = stack.instanceId();
        connect.setQuota(backstop.local.connect.Quota.OFF);
    }

    @AfterAll
    static void stop() {
        stack.close();
    }

    @AfterEach
    void clearFaults() {
        connect.clearFaults();
        connect.setQuota(backstop.local.connect.Quota.OFF);
    }

    /** A fresh Available agent, so tests never share state. */
    static String newAgent(String routingProfile) {
        String userId = "it-" + UUID.randomUUID();
        connect.addAgent(instanceId, userId, userId, "Test", "Agent", routingProfile, "Available");
        return userId;
    }

    static String arn(String userId) {
        return DemoInstance.instanceArn(instanceId) + "/agent/" + userId;
    }

    static List<ConnectCall> putUserStatusCalls(String userId) {
        return connect.calls(ConnectEmulator.PUT_USER_STATUS).stream().filter(c -> userId.equals(c.userId())).toList();
    }

    static Map<String, AttributeValue> item(String pk, String sk) {
        return stack.clients().dynamoDb().getItem(r -> r.tableName(stack.config().sessionsTable())
                .key(Map.of("pk", AttributeValue.fromS(pk), "sk", AttributeValue.fromS(sk))).consistentRead(true)).item();
    }

    @Test
    void reload_should_offerTheRestoreToExactlyOnePage_when_severalRegisterAtOnce() throws Exception {
        String user = newAgent("rp-sales");
        ApiClient.Session closing = api.open(arn(user));
        assertThat(api.close(closing).text("offline")).isEqualTo("done");

        List<ApiClient.Response> registered;
        try (var executor = java.util.concurrent.Executors.newFixedThreadPool(4)) {
            List<java.util.concurrent.Future<ApiClient.Response>> futures = new java.util.ArrayList<>();
            for (int i = 0; i < 4; i++) {
                futures.add(executor.submit(() -> api.register(arn(user))));
            }
            registered = new java.util.ArrayList<>();
            for (var future : futures) {
                registered.add(future.get());
            }
        }

        assertThat(registered).allSatisfy(r -> assertThat(r.status()).isEqualTo(201));
        List<ApiClient.Response> restoring = registered.stream().filter(r -> !r.body().path("restore").isNull()).toList();
        assertThat(restoring).singleElement().satisfies(r ->
                assertThat(r.body().path("restore").path("name").asText()).isEqualTo("Available"));
        String restorer = restoring.getFirst().text("sessionId");
        assertThat(item("AGENT#" + instanceId + "#" + user, "AGENT").get("lastClose").m().get("restoredBy").s())
                .as("the agent item records which page took the restore").isEqualTo(restorer);
        await().atMost(Waits.PROMPT).untilAsserted(() ->
                assertThat(stack.events().events("Agent Status Restored", "agentArn", arn(user))).singleElement()
                        .satisfies(e -> {
                            assertThat(e.path("detail").path("sessionId").asText()).isEqualTo(restorer);
                            assertThat(e.path("detail").path("statusName").asText()).isEqualTo("Available");
                        }));
        assertThat(putUserStatusCalls(user)).as("the server only offers; the page restores with Streams").hasSize(1);
    }

    @Test
    void close_should_setAgentOfflineWithTheOfflineTypeStatus_when_lastTabCloses() {
        String user = newAgent("rp-sales");
        ApiClient.Response registered = api.register(arn(user));
        assertThat(registered.status()).isEqualTo(201);
        assertThat(registered.text("sessionId")).as("128 random bits and a 64-bit tag").matches("[A-Za-z0-9_-]{32}");
        assertThat(registered.text("token")).matches("[A-Za-z0-9_-]{43}");
        var template = backstop.local.aws.TemplateResources.load(backstop.local.aws.TemplateResources.findTemplate());
        assertThat(registered.body().path("heartbeatSeconds").asInt()).as("the code's default is the template's")
                .isEqualTo(Integer.parseInt(template.parameterDefault("HeartbeatSeconds"))).isEqualTo(30);
        assertThat(registered.body().path("staleAfterSeconds").asInt())
                .isEqualTo(Integer.parseInt(template.parameterDefault("StaleAfterSeconds"))).isEqualTo(75);
        assertThat(registered.body().has("restore")).isTrue();
        ApiClient.Session session = new ApiClient.Session(registered.text("sessionId"), registered.text("token"));

        assertThat(api.heartbeat(session).status()).isEqualTo(200);
        assertThat(putUserStatusCalls(user)).as("heartbeats never call Connect").isEmpty();

        ApiClient.Response closed = api.close(session);

        assertThat(closed.status()).isEqualTo(202);
        assertThat(closed.text("offline")).isEqualTo("done");
        assertThat(connect.agentView(instanceId, user).statusType()).isEqualTo(AgentStatusType.OFFLINE);
        assertThat(putUserStatusCalls(user)).singleElement()
                .satisfies(c -> assertThat(c.statusId()).isEqualTo(connect.statusId(instanceId, AgentStatusType.OFFLINE)));
        await().atMost(Waits.PROMPT).untilAsserted(() ->
                assertThat(stack.events().events("Agent Set Offline", "userId", user)).singleElement().satisfies(e -> {
                    JsonNode detail = e.path("detail");
                    assertThat(e.path("source").asText()).isEqualTo("ccp-backstop");
                    assertThat(detail.path("agentArn").asText()).isEqualTo(arn(user));
                    assertThat(detail.path("sessionId").asText()).isEqualTo(session.id());
                    assertThat(detail.path("reason").asText()).isEqualTo("tab-closed");
                    assertThat(detail.path("attempts").asInt()).isEqualTo(1);
                    assertThat(detail.path("deferred").asBoolean()).isFalse();
                    assertThat(detail.path("at").asText()).isNotBlank();
                }));
        Map<String, AttributeValue> transition = item("TRANSITION#" + session.id(), "TRANSITION");
        assertThat(transition.get("transitionState").s()).isEqualTo("DONE");
        assertThat(transition.get("attempts").n()).isEqualTo("1");
        assertThat(transition).doesNotContainKey(TableLayout.DUE_SHARD);
        Map<String, AttributeValue> stored = item("SESSION#" + session.id(), "SESSION");
        assertThat(stored.get("sessionState").s()).isEqualTo("CLOSED");
        assertThat(stored).doesNotContainKey(TableLayout.OPEN_SHARD).doesNotContainKey("token");
        assertThat(stored.get("tokenHash").b().asByteArray()).hasSize(32);
    }

    @Test
    void close_should_useTheOfflineTypeStatusId_when_offlineIsRenamed() {
        String user = newAgent("rp-sales");
        String offlineId = connect.statusId(instanceId, AgentStatusType.OFFLINE);
        connect.renameStatus(instanceId, offlineId, "Signed out (renamed)");
        try {
            ApiClient.Session session = api.open(arn(user));

            assertThat(api.close(session).text("offline")).isEqualTo("done");

            assertThat(putUserStatusCalls(user)).singleElement().satisfies(c -> assertThat(c.statusId()).isEqualTo(offlineId));
            assertThat(connect.agentView(instanceId, user).statusName()).isEqualTo("Signed out (renamed)");
        } finally {
            connect.renameStatus(instanceId, offlineId, "Offline");
        }
    }

    @Test
    void close_should_lookTheOfflineStatusUpAgain_andSucceed_when_theCachedIdIsGone() {
        String first = newAgent("rp-sales");
        assertThat(api.close(api.open(arn(first))).text("offline")).as("caches the Offline status id").isEqualTo("done");
        String stale = connect.statusId(instanceId, AgentStatusType.OFFLINE);
        String fresh = connect.replaceStatus(instanceId, stale);
        String user = newAgent("rp-sales");

        ApiClient.Response closed = api.close(api.open(arn(user)));

        assertThat(closed.text("offline")).isEqualTo("done");
        assertThat(connect.agentView(instanceId, user).statusType()).isEqualTo(AgentStatusType.OFFLINE);
        assertThat(putUserStatusCalls(user)).extracting(ConnectCall::statusId, ConnectCall::httpStatus)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(stale, 404), org.assertj.core.groups.Tuple.tuple(fresh, 200));
    }

    @Test
    void close_should_keepAgentOnline_when_anotherTabIsStillOpen() {
        String user = newAgent("rp-sales");
        ApiClient.Session first = api.open(arn(user));
        ApiClient.Session second = api.open(arn(user));

        ApiClient.Response closedFirst = api.close(first);

        assertThat(closedFirst.text("offline")).isEqualTo("not-needed");
        assertThat(putUserStatusCalls(user)).isEmpty();
        assertThat(connect.agentView(instanceId, user).statusName()).isEqualTo("Available");
        assertThat(api.heartbeat(second).status()).isEqualTo(200);

        assertThat(api.close(second).text("offline")).isEqualTo("done");
        assertThat(putUserStatusCalls(user)).hasSize(1);
        assertThat(connect.agentView(instanceId, user).statusName()).isEqualTo("Offline");
    }

    @Test
    void registerAndHeartbeat_should_tellEachPage_howManyOtherSessionsTheAgentHasOpen() {
        String user = newAgent("rp-sales");
        api.open(arn(newAgent("rp-sales"))); // another agent's session never counts
        ApiClient.Response firstRegistered = api.register(arn(user));
        assertThat(firstRegistered.body().path("otherSessions").asInt(-1)).as("the first CCP is alone").isZero();
        ApiClient.Session first = new ApiClient.Session(firstRegistered.text("sessionId"), firstRegistered.text("token"));

        // A second browser or device opens the agent's CCP: both pages learn of the other.
        ApiClient.Response secondRegistered = api.register(arn(user));
        assertThat(secondRegistered.body().path("otherSessions").asInt(-1)).as("the second sees the first").isEqualTo(1);
        ApiClient.Session second = new ApiClient.Session(secondRegistered.text("sessionId"), secondRegistered.text("token"));
        ApiClient.Response firstBeat = api.heartbeat(first);
        assertThat(firstBeat.status()).isEqualTo(200);
        assertThat(firstBeat.body().path("otherSessions").asInt(-1)).as("the first sees the second").isEqualTo(1);

        // The first closes: the second is alone now.
        assertThat(api.close(first).text("offline")).isEqualTo("not-needed");
        ApiClient.Response alone = api.heartbeat(second);
        assertThat(alone.status()).isEqualTo(200);
        assertThat(alone.body().path("otherSessions").asInt(-1)).isZero();
    }

    @Test
    void close_should_recordPendingTransitionAndAnswer202_when_connectFails() {
        String user = newAgent("rp-sales");
        ApiClient.Session session = api.open(arn(user));
        connect.setFault(ConnectEmulator.PUT_USER_STATUS, OperationFault.errors(1.0));

        ApiClient.Response closed = api.close(session);

        assertThat(closed.status()).isEqualTo(202);
        assertThat(closed.text("offline")).isEqualTo("pending");
        assertThat(connect.agentView(instanceId, user).statusName()).isEqualTo("Available");
        // The beacon's pinned policy, whatever AWS_MAX_ATTEMPTS says (the odd-aws-environment run sets it to 12).
        assertThat(putUserStatusCalls(user)).as("PutUserStatus attempts").hasSize(ClientPolicies.BEACON.connect().maxAttempts());
        Map<String, AttributeValue> transition = item("TRANSITION#" + session.id(), "TRANSITION");
        assertThat(transition.get("transitionState").s()).isEqualTo("PENDING");
        assertThat(transition.get("attempts").n()).isEqualTo("1");
        assertThat(transition.get("lastError").s()).isEqualTo("InternalServiceException (500)");
        assertThat(transition).doesNotContainKey("claim");
        assertThat(transition.get(TableLayout.DUE_SHARD).s())
                .isEqualTo(TableLayout.dueShard(TableLayout.shard(new SessionId(session.id()))));
        assertThat(Long.parseLong(transition.get(TableLayout.NEXT_ATTEMPT_AT).n())).isGreaterThan(System.currentTimeMillis());
        assertThat(item("SESSION#" + session.id(), "SESSION").get("sessionState").s()).isEqualTo("CLOSED");
    }

    @Test
    void close_should_callConnectOnceAndPublishOneEvent_when_beaconArrivesTwice() {
        String user = newAgent("rp-sales");
        ApiClient.Session session = api.open(arn(user));

        ApiClient.Response first = api.close(session);
        ApiClient.Response second = api.close(session);

        assertThat(first.status()).isEqualTo(202);
        assertThat(second.status()).isEqualTo(202);
        assertThat(second.text("offline")).isEqualTo("done");
        assertThat(putUserStatusCalls(user)).hasSize(1);
        await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5)).untilAsserted(() ->
                assertThat(stack.events().events("Agent Set Offline", "userId", user)).hasSize(1));
    }

    @RepeatedTest(5)
    void close_should_setOfflineExactlyOnce_when_twoTabsCloseAtTheSameMoment() throws Exception {
        String user = newAgent("rp-sales");
        ApiClient.Session first = api.open(arn(user));
        ApiClient.Session second = api.open(arn(user));
        CyclicBarrier barrier = new CyclicBarrier(2);

        CompletableFuture<ApiClient.Response> a = CompletableFuture.supplyAsync(() -> { meet(barrier); return api.close(first); });
        CompletableFuture<ApiClient.Response> b = CompletableFuture.supplyAsync(() -> { meet(barrier); return api.close(second); });

        assertThat(List.of(a.get().text("offline"), b.get().text("offline"))).containsExactlyInAnyOrder("done", "not-needed");
        assertThat(putUserStatusCalls(user)).hasSize(1);
        assertThat(connect.agentView(instanceId, user).statusName()).isEqualTo("Offline");
    }

    @Test
    void close_should_neverSetOffline_when_routingProfileIsExempt() {
        String user = newAgent(DemoInstance.SUPERVISOR_PROFILE);
        ApiClient.Session session = api.open(arn(user));

        ApiClient.Response closed = api.close(session);

        assertThat(closed.text("offline")).isEqualTo("exempt");
        assertThat(putUserStatusCalls(user)).isEmpty();
        assertThat(connect.agentView(instanceId, user).statusName()).isEqualTo("Available");
        assertThat(item("TRANSITION#" + session.id(), "TRANSITION").get("transitionState").s()).isEqualTo("EXEMPT");
    }

    @Test
    void heartbeat_should_answer410AndNeverReopen_when_sessionClosed() {
        String user = newAgent("rp-sales");
        ApiClient.Session session = api.open(arn(user));
        api.close(session);

        ApiClient.Response beat = api.heartbeat(session);

        assertThat(beat.status()).isEqualTo(410);
        assertThat(beat.text("error")).isEqualTo("session_closed");
        assertThat(item("SESSION#" + session.id(), "SESSION").get("sessionState").s()).isEqualTo("CLOSED");
    }

    @Test
    void heartbeatAndClose_should_refuse_when_tokenIsWrongOrSessionUnknown() {
        String user = newAgent("rp-sales");
        ApiClient.Session session = api.open(arn(user));
        ApiClient.Session forged = new ApiClient.Session(session.id(), "A".repeat(43));
        ApiClient.Session unknown = new ApiClient.Session("Z".repeat(22), session.token());

        assertThat(api.heartbeat(forged).status()).isEqualTo(403);
        assertThat(api.close(forged).status()).isEqualTo(403);
        assertThat(api.heartbeat(unknown).status()).isEqualTo(404);
        assertThat(api.close(unknown).status()).isEqualTo(404);
        assertThat(api.post("/sessions/not-a-session/close", Map.of("token", session.token())).status()).isEqualTo(400);

        assertThat(putUserStatusCalls(user)).isEmpty();
        assertThat(item("SESSION#" + session.id(), "SESSION").get("sessionState").s()).isEqualTo("OPEN");
        assertThat(api.heartbeat(session).status()).isEqualTo(200);
    }

    @Test
    void heartbeats_should_beRefusedWithoutAWrite_when_oneSessionFloods() {
        String user = newAgent("rp-sales");
        ApiClient.Session session = api.open(arn(user));
        assertThat(api.heartbeat(session).status()).isEqualTo(200);
        String lastSeen = item("SESSION#" + session.id(), "SESSION").get("lastSeen").n();

        List<Integer> statuses = new java.util.ArrayList<>();
        for (int i = 0; i < 50; i++) {
            statuses.add(api.heartbeat(session).status());
        }

        assertThat(statuses).containsOnly(429);
        Map<String, AttributeValue> stored = item("SESSION#" + session.id(), "SESSION");
        assertThat(stored.get("lastSeen").n()).isEqualTo(lastSeen);
        assertThat(stored.get("heartbeats").n()).isEqualTo("1");
        assertThat(api.heartbeat(session).text("error")).isEqualTo("too_many_heartbeats");
        assertThat(putUserStatusCalls(user)).isEmpty();
    }

    @Test
    void register_should_refuse_when_agentIsForeignUnknownOrMalformed() {
        String foreign = "arn:aws:connect:us-east-1:123456789012:instance/99999999-0000-4000-8000-000000000000/agent/x";
        String otherAccount = "arn:aws:connect:us-east-1:999999999999:instance/" + instanceId + "/agent/demo-ada";
        String otherRegion = "arn:aws:connect:eu-west-1:123456789012:instance/" + instanceId + "/agent/demo-ada";

        assertThat(api.register(foreign).status()).isEqualTo(403);
        assertThat(api.register(foreign).text("error")).isEqualTo("foreign_instance");
        assertThat(api.register(otherAccount).status()).isEqualTo(403);
        assertThat(api.register(otherRegion).status()).isEqualTo(403);
        assertThat(api.register(arn("nobody-" + UUID.randomUUID())).text("error")).isEqualTo("unknown_agent");
        assertThat(api.register("not an arn").status()).isEqualTo(400);
        assertThat(api.post("/sessions", "application/xml", "<a/>", Map.of()).status()).isEqualTo(415);
        assertThat(api.post("/sessions", "text/plain", "{\"agentArn\":\"" + "x".repeat(5000) + "\"}", Map.of()).status()).isEqualTo(413);
        assertThat(api.post("/sessions", "text/plain", "{\"agentArn\": 42}", Map.of()).status()).isEqualTo(400);
        assertThat(api.post("/sessions", "text/plain", "{\"agentArn\":\"" + arn("demo-ada") + "\"}",
                Map.of("Origin", "https://attacker.example")).status()).isEqualTo(403);
    }

    @Test
    void errors_should_beJsonWithCodeAndMessage_when_requestIsBad() {
        ApiClient.Response response = api.post("/sessions", "text/plain", "{not json", Map.of());

        assertThat(response.status()).isEqualTo(400);
        assertThat(response.text("error")).isEqualTo("bad_request");
        assertThat(response.text("message")).isEqualTo("the body is not valid JSON");
    }

    private static void meet(CyclicBarrier barrier) {
        try {
            barrier.await();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}

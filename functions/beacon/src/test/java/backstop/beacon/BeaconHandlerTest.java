package backstop.beacon;

import backstop.core.random.RestoreSafeRandom;
import backstop.core.agent.AgentRef;
import backstop.core.config.BackstopConfig;
import backstop.core.connect.ConnectAgentStatus;
import backstop.core.session.CloseResult;
import backstop.core.session.Session;
import backstop.core.session.SessionId;
import backstop.core.session.SessionLifetime;
import backstop.core.session.SessionState;
import backstop.core.session.SessionToken;
import backstop.core.transition.Backoff;
import backstop.core.transition.OfflineOutcome;
import backstop.core.transition.OfflineTransitions;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.amazonaws.services.lambda.runtime.tests.annotations.Event;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** The handler on the raw events of events/ (the ones `sam local invoke -e` takes), positive and negative. */
class BeaconHandlerTest {
    static final String INSTANCE = "arn:aws:connect:us-east-1:123456789012:instance/00000000-0000-4000-8000-000000000001";
    static final SessionId SESSION = new SessionId("qYsLsluUVmvAj6xM1jdaNg");
    static final SessionToken TOKEN = SessionToken.parse("smQMhqlx5IHqHEocx6WLcEWco_ycQ9eT9rNLFUCsUDg");
    static final Instant NOW = Instant.parse("2026-11-25T09:00:00Z");

    FakeStore store;
    FakeConnect connect;
    BeaconHandler handler;

    @BeforeEach
    void wire() {
        BackstopConfig config = BackstopConfig.fromEnvironment(Map.of("AWS_REGION", "us-east-1",
                "CONNECT_INSTANCE_ARN", INSTANCE, "SESSIONS_TABLE", "t", "EVENT_BUS_NAME", "b",
                "ALLOWED_ORIGINS", "https://ccp.example.com"));
        store = new FakeStore();
        connect = new FakeConnect();
        connect.routingProfiles.put("demo-ada", "rp-sales");
        connect.usernames.put("demo-ada", "ada");
        Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
        RestoreSafeRandom random = new RestoreSafeRandom();
        ConnectAgentStatus gateway = new ConnectAgentStatus(connect, config.connectInstance());
        OfflineTransitions transitions = new OfflineTransitions(store, gateway, e -> { }, clock, Backoff.DEFAULT, 8, random);
        handler = new BeaconHandler(new BeaconApi(config, new BeaconService(config, store, store, gateway, transitions, e -> { }, backstop.core.metrics.OfflineMetrics.NONE, clock, random,
                backstop.core.session.SessionIds.withKey(new byte[32], java.time.Instant.MAX, clock))),
                written);
        AgentRef ada = AgentRef.parseArn(INSTANCE + "/agent/demo-ada").orElseThrow();
        store.sessions.put(SESSION, new Session(SESSION, ada, TOKEN.hash(), NOW, NOW, SessionState.OPEN, Optional.empty(),
                Optional.empty(), Optional.empty(), Optional.empty(), 0, backstop.core.session.Exemption.NOT_EXEMPT));
        store.closeResult = new CloseResult.Closed(OfflineOutcome.NOT_NEEDED, Optional.empty());
    }

    /** What the handler wrote to its metrics, in order: "close <ms>" and "flush". */
    static final class WrittenMetrics implements backstop.core.metrics.OfflineMetrics {
        final java.util.List<String> seen = new java.util.ArrayList<>();
        long closeMillis = -1;
        @Override public void transitionDone(boolean deferred) { }
        @Override public void transitionNotNeeded() { }
        @Override public void transitionFailed() { }
        @Override public void transitionRetryScheduled() { }
        @Override public void connectThrottled() { }
        @Override public void closeTook(long millis) { closeMillis = millis; seen.add("close"); }
        @Override public void flush() { seen.add("flush"); }
    }

    final WrittenMetrics written = new WrittenMetrics();

    APIGatewayV2HTTPResponse handle(APIGatewayV2HTTPEvent event) {
        return handler.handleRequest(event, null);
    }

    @ParameterizedTest
    @Event(value = "events/register.json", type = APIGatewayV2HTTPEvent.class)
    void register_should_carryTheRestoreOffer_asTheStatusNameAndArn_when_theAgentReloadedWithinTheWindow(APIGatewayV2HTTPEvent event) {
        AgentRef ada = AgentRef.parseArn(INSTANCE + "/agent/demo-ada").orElseThrow();
        String lunchArn = INSTANCE + "/agent-state/lunch-id";
        store.agents.put(ada, new backstop.core.session.AgentRecord(ada, java.util.Set.of(), Optional.of("ada"), Optional.of("rp-sales"),
                Optional.of(NOW.minusSeconds(3600)), Optional.of(new backstop.core.session.AgentRecord.LastClose(
                new SessionId("closedTabSession000000"), NOW.minusSeconds(10), backstop.core.session.CloseReason.TAB_CLOSED,
                Optional.of(new backstop.core.agent.AgentStatus("Lunch", lunchArn)), true, Optional.empty()))));

        APIGatewayV2HTTPResponse response = handle(event);

        assertThat(response.getStatusCode()).isEqualTo(201);
        assertThat(response.getBody()).contains("\"restore\":{\"name\":\"Lunch\",\"arn\":\"" + lunchArn + "\"}");
    }

    @ParameterizedTest
    @Event(value = "events/register.json", type = APIGatewayV2HTTPEvent.class)
    void register_should_answer201WithSessionAndToken(APIGatewayV2HTTPEvent event) {
        APIGatewayV2HTTPResponse response = handle(event);

        assertThat(response.getStatusCode()).isEqualTo(201);
        assertThat(response.getHeaders()).containsEntry("Content-Type", "application/json");
        assertThat(response.getBody()).contains("\"sessionId\"", "\"token\"", "\"heartbeatSeconds\":30", "\"restore\":null");
        assertThat(store.created).singleElement().satisfies(s -> {
            assertThat(s.agent().userId()).isEqualTo("demo-ada");
            assertThat(s.status().orElseThrow().name()).isEqualTo("Available");
        });
    }

    @ParameterizedTest
    @Event(value = "events/register.json", type = APIGatewayV2HTTPEvent.class)
    void register_should_sayWhenTheSessionEnds_asItsLifetimeComputesIt(APIGatewayV2HTTPEvent event) {
        APIGatewayV2HTTPResponse response = handle(event);

        Matcher answer = Pattern.compile("\"sessionId\":\"([^\"]+)\".*\"expiresAt\":\"([^\"]+)\"").matcher(response.getBody());
        assertThat(answer.find()).as(response.getBody()).isTrue();
        Instant expiresAt = Instant.parse(answer.group(2));
        // The page renews ahead of this very instant: the one the heartbeat's 410 session_expired is decided by.
        assertThat(expiresAt).isEqualTo(SessionLifetime.ofHours(10).endOf(new SessionId(answer.group(1)), NOW))
                .isBetween(NOW.plus(Duration.ofHours(9)), NOW.plus(Duration.ofHours(10)));
    }

    @ParameterizedTest
    @Event(value = "events/heartbeat.json", type = APIGatewayV2HTTPEvent.class)
    void heartbeat_should_answer200WithTheAgentsOtherSessions(APIGatewayV2HTTPEvent event) {
        APIGatewayV2HTTPResponse response = handle(event);

        assertThat(response.getStatusCode()).isEqualTo(200);
        assertThat(response.getBody()).isEqualTo("{\"otherSessions\":0}");
        assertThat(connect.puts).isEmpty();
        assertThat(store.heartbeats).as("the beat was recorded").hasSize(1);
    }

    @ParameterizedTest
    @Event(value = "events/close-beacon.json", type = APIGatewayV2HTTPEvent.class)
    void close_should_answer202_when_beaconIsTextPlain(APIGatewayV2HTTPEvent event) {
        APIGatewayV2HTTPResponse response = handle(event);

        assertThat(response.getStatusCode()).isEqualTo(202);
        assertThat(response.getBody()).isEqualTo("{\"offline\":\"not-needed\"}");
        assertThat(store.closes).singleElement().satisfies(c -> {
            assertThat(c.sessionId()).isEqualTo(SESSION);
            assertThat(c.status().orElseThrow().name()).isEqualTo("Available");
        });
    }

    @ParameterizedTest
    @Event(value = "events/close-beacon-base64.json", type = APIGatewayV2HTTPEvent.class)
    void close_should_decodeTheBody_when_apiGatewayBase64EncodedIt(APIGatewayV2HTTPEvent event) {
        assertThat(event.getIsBase64Encoded()).isTrue();

        assertThat(handle(event).getStatusCode()).isEqualTo(202);
        assertThat(store.closes).hasSize(1);
    }

    @ParameterizedTest
    @Event(value = "events/negative/register-wrong-content-type.json", type = APIGatewayV2HTTPEvent.class)
    void register_should_answer415_when_contentTypeIsNotJsonOrText(APIGatewayV2HTTPEvent event) {
        assertRefused(event, 415, "unsupported_media_type");
    }

    @ParameterizedTest
    @Event(value = "events/negative/register-no-content-type.json", type = APIGatewayV2HTTPEvent.class)
    void register_should_answer415_when_contentTypeIsMissing(APIGatewayV2HTTPEvent event) {
        assertRefused(event, 415, "unsupported_media_type");
    }

    @ParameterizedTest
    @Event(value = "events/negative/register-oversized.json", type = APIGatewayV2HTTPEvent.class)
    void register_should_answer413_when_bodyExceeds4KiB(APIGatewayV2HTTPEvent event) {
        assertRefused(event, 413, "payload_too_large");
    }

    @ParameterizedTest
    @Event(value = "events/heartbeat.json", type = APIGatewayV2HTTPEvent.class)
    void body_should_beAcceptedAtExactly4KiB_andRefusedOneByteOver(APIGatewayV2HTTPEvent event) {
        String json = "{\"token\":\"" + TOKEN.reveal() + "\",\"pad\":\"";
        String atLimit = json + "x".repeat(BeaconApi.MAX_BODY_BYTES - json.length() - 2) + "\"}";
        assertThat(atLimit).hasSize(BeaconApi.MAX_BODY_BYTES);
        event.setBody(atLimit);
        assertThat(handle(event).getStatusCode()).isEqualTo(200);

        event.setBody(atLimit.replace("\"pad\":\"", "\"pad\":\"x"));
        assertThat(handle(event).getStatusCode()).isEqualTo(413);
    }

    @ParameterizedTest
    @Event(value = "events/negative/register-foreign-origin.json", type = APIGatewayV2HTTPEvent.class)
    void register_should_answer403_when_originIsNotAllowed(APIGatewayV2HTTPEvent event) {
        assertRefused(event, 403, "origin_not_allowed");
    }

    @ParameterizedTest
    @Event(value = "events/negative/register-not-json.json", type = APIGatewayV2HTTPEvent.class)
    void register_should_answer400_when_bodyIsNotJson(APIGatewayV2HTTPEvent event) {
        assertRefused(event, 400, "bad_request");
    }

    @ParameterizedTest
    @Event(value = "events/negative/register-foreign-instance.json", type = APIGatewayV2HTTPEvent.class)
    void register_should_answer403_when_agentIsOfAnotherInstance(APIGatewayV2HTTPEvent event) {
        assertRefused(event, 403, "foreign_instance");
    }

    @ParameterizedTest
    @Event(value = "events/negative/register-identity-mismatch.json", type = APIGatewayV2HTTPEvent.class)
    void register_should_answer403_when_theTokensUserIsAnotherAgent(APIGatewayV2HTTPEvent event) {
        AgentRef ada = AgentRef.parseArn(INSTANCE + "/agent/demo-ada").orElseThrow();
        store.agents.put(ada, new backstop.core.session.AgentRecord(ada, java.util.Set.of(), Optional.of("ada"),
                Optional.of("rp-sales"), Optional.of(NOW.minusSeconds(60)), Optional.empty()));
        assertRefused(event, 403, "identity_mismatch");
        assertThat(store.created).isEmpty();
    }

    @ParameterizedTest
    @Event(value = "events/register.json", type = APIGatewayV2HTTPEvent.class)
    void register_should_answer401_when_noAuthorizerClaimsArrive(APIGatewayV2HTTPEvent event) {
        event.getRequestContext().setAuthorizer(null);
        assertRefused(event, 401, "unauthenticated");
        assertThat(store.created).isEmpty();
    }

    @ParameterizedTest
    @Event(value = "events/negative/close-malformed-session-id.json", type = APIGatewayV2HTTPEvent.class)
    void close_should_answer400_when_sessionIdIsMalformed(APIGatewayV2HTTPEvent event) {
        assertRefused(event, 400, "bad_request");
    }

    @ParameterizedTest
    @Event(value = "events/negative/close-forged-token.json", type = APIGatewayV2HTTPEvent.class)
    void close_should_answer403_when_tokenIsForged(APIGatewayV2HTTPEvent event) {
        assertRefused(event, 403, "bad_token");
    }

    @ParameterizedTest
    @Event(value = "events/negative/heartbeat-token-wrong-type.json", type = APIGatewayV2HTTPEvent.class)
    void heartbeat_should_answer400_when_tokenIsNotAString(APIGatewayV2HTTPEvent event) {
        assertRefused(event, 400, "bad_request");
    }

    @ParameterizedTest
    @Event(value = "events/negative/heartbeat-crowded-not-whole.json", type = APIGatewayV2HTTPEvent.class)
    void heartbeat_should_answer400_andWriteNothing_when_crowdedMsAgoIsNotAWholeNumberOfMilliseconds(APIGatewayV2HTTPEvent event) {
        assertRefused(event, 400, "bad_request");
        assertThat(store.heartbeats).isEmpty();
    }

    private void assertRefused(APIGatewayV2HTTPEvent event, int status, String code) {
        APIGatewayV2HTTPResponse response = handle(event);

        assertThat(response.getStatusCode()).isEqualTo(status);
        assertThat(response.getBody()).contains("\"error\":\"" + code + "\"", "\"message\":");
        assertThat(store.created).isEmpty();
        assertThat(store.closes).isEmpty();
        assertThat(connect.puts).isEmpty();
        assertThat(connect.describes).isEmpty();
    }

    @ParameterizedTest
    @Event(value = "events/close-beacon.json", type = APIGatewayV2HTTPEvent.class)
    void close_should_writeHowLongItTook_inMilliseconds_thenFlushTheMetrics(APIGatewayV2HTTPEvent event) {
        handle(event);
        assertThat(written.seen).containsExactly("close", "flush");
        assertThat(written.closeMillis).as("milliseconds, well inside API Gateway's 30 s").isBetween(0L, 30_000L);
    }

    @ParameterizedTest
    @Event(value = "events/heartbeat.json", type = APIGatewayV2HTTPEvent.class)
    void heartbeat_should_writeNoCloseDuration_andStillFlush(APIGatewayV2HTTPEvent event) {
        handle(event);
        assertThat(written.seen).containsExactly("flush");
    }
}

package backstop.beacon;

import backstop.core.random.RestoreSafeRandom;
import backstop.core.config.BackstopConfig;
import backstop.core.fuzz.Draw;
import backstop.core.fuzz.FuzzRun;
import backstop.core.connect.ConnectAgentStatus;
import backstop.core.session.HeartbeatResult;
import backstop.core.transition.Backoff;
import backstop.core.transition.OfflineTransitions;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Generated hostile input against the handler: malformed, oversized, wrongly typed, truncated, non-UTF-8,
 * deeply nested and unicode-tricky bodies, paths and content types. Whatever comes in: a 4xx with a JSON error
 * body (never a 2xx, never a 5xx), never a call to Connect, never a write to the table. 10,000 cases from a fixed
 * seed; a failure names its seed and case ({@link FuzzRun}: -Dfuzz.seed, -Dfuzz.case).
 */
class BeaconFuzzTest {
    static final String INSTANCE = "arn:aws:connect:us-east-1:123456789012:instance/00000000-0000-4000-8000-000000000001";
    static final AtomicLong CASES = new AtomicLong();
    static final java.util.Map<String, Long> BY_STATUS = new java.util.concurrent.ConcurrentHashMap<>();
    static final AtomicLong CONNECT_CALLS = new AtomicLong();
    static final AtomicLong WRITES = new AtomicLong();
    static final List<String> ROUTES = List.of("POST /sessions", "POST /sessions/{sessionId}/heartbeat",
            "POST /sessions/{sessionId}/close", "GET /sessions", "$default", "");

    static final FuzzRun RUN = FuzzRun.fromSystemProperties();

    @Test
    void anyRequest_should_neverBreakTheHandlerNorTouchConnectOrTheTable() {
        RUN.check(10_000, BeaconFuzzTest::request, BeaconFuzzTest::handle);
    }

    static void handle(APIGatewayV2HTTPEvent event) {
        FakeStore store = new FakeStore();
        store.heartbeatResult = HeartbeatResult.UNKNOWN_SESSION; // no generated session exists
        FakeConnect connect = new FakeConnect();
        BackstopConfig config = BackstopConfig.fromEnvironment(Map.of("AWS_REGION", "us-east-1",
                "CONNECT_INSTANCE_ARN", INSTANCE, "SESSIONS_TABLE", "t", "EVENT_BUS_NAME", "b",
                "ALLOWED_ORIGINS", "https://ccp.example.com"));
        Clock clock = Clock.systemUTC();
        RestoreSafeRandom random = new RestoreSafeRandom();
        ConnectAgentStatus gateway = new ConnectAgentStatus(connect, config.connectInstance());
        OfflineTransitions transitions = new OfflineTransitions(store, gateway, e -> { }, clock, Backoff.DEFAULT, 8, random);
        BeaconHandler handler = new BeaconHandler(new BeaconApi(config, new BeaconService(config, store, store, gateway, transitions, e -> { }, backstop.core.metrics.OfflineMetrics.NONE, clock, random,
                backstop.core.session.SessionIds.withKey(new byte[32], java.time.Instant.MAX, clock))));

        APIGatewayV2HTTPResponse response = handler.handleRequest(event, null);
        CASES.incrementAndGet();
        BY_STATUS.merge(response.getStatusCode() / 100 + "xx", 1L, Long::sum);
        CONNECT_CALLS.addAndGet(connect.puts.size() + connect.describes.size());
        WRITES.addAndGet(store.created.size() + store.closes.size());

        // No drawn request is one the contract accepts (no authorizer claims, no live session, no valid token):
        // a 2xx would be a refusal let through.
        assertThat(response.getStatusCode()).as("status").isBetween(400, 499);
        assertThat(response.getBody()).startsWith("{\"error\":\"").contains("\"message\":\"");
        assertThat(response.getBody()).doesNotContain("Exception", "software.amazon", "at backstop");
        assertThat(connect.puts).isEmpty();
        assertThat(connect.describes).isEmpty();
        assertThat(store.created).isEmpty();
        assertThat(store.closes).isEmpty();
    }

    @AfterAll
    static void report() {
        // Counted as they happened (the run fails at the first bad one; these say what a green run saw).
        System.out.printf("fuzz: %d generated requests, answers by class %s, %d Connect calls, %d writes (seed %d)%n",
                CASES.get(), new java.util.TreeMap<>(BY_STATUS), CONNECT_CALLS.get(), WRITES.get(), RUN.seed());
    }

    static APIGatewayV2HTTPEvent request(Draw draw) {
        String route = draw.oneOf(ROUTES);
        String sessionId = switch (draw.between(0, 2)) {
            case 0 -> draw.text(0, 40);
            case 1 -> draw.text(22, 22, 'A', 'z');
            default -> draw.oneOf("../../etc/passwd", "%00", "qYsLsluUVmvAj6xM1jdaNg", "\u202e\u0000", "a".repeat(5000));
        };
        String contentType = draw.oneOf("text/plain;charset=UTF-8", "application/json", "text/plain",
                "TEXT/PLAIN; charset=utf-16", "application/xml", "", "multipart/form-data; boundary=x",
                "application/json; charset=\u00e9", "text/plain\r\nX-Injected: 1");
        String origin = draw.oneOf("https://ccp.example.com", "https://evil.example", "null", "");
        byte[] body = switch (draw.between(0, 3)) {
            case 0 -> jsonish(draw);
            case 1 -> draw.bytes(300);
            case 2 -> nested(draw);
            default -> oversized(draw);
        };
        boolean base64 = draw.coin();
        Map<String, String> headers = new HashMap<>();
        if (!contentType.isEmpty()) {
            headers.put("content-type", contentType);
        }
        if (!origin.isEmpty()) {
            headers.put("origin", origin);
        }
        return APIGatewayV2HTTPEvent.builder().withVersion("2.0").withRouteKey(route)
                .withRawPath("/sessions").withHeaders(headers)
                .withPathParameters(route.contains("{sessionId}") ? Map.of("sessionId", sessionId) : null)
                .withBody(base64 ? Base64.getEncoder().encodeToString(body) : new String(body, StandardCharsets.UTF_8))
                .withIsBase64Encoded(base64).build();
    }

    /** JSON-shaped text with wrong types, unknown fields, tricky unicode and truncation. */
    static byte[] jsonish(Draw draw) {
        StringBuilder json = new StringBuilder("{");
        for (int i = 0, fields = draw.size(0, 5); i < fields; i++) {
            json.append(i == 0 ? "" : ",").append('"')
                    .append(draw.oneOf("agentArn", "token", "status", "reason", "name", "arn", "__proto__", "", "agentArn"))
                    .append("\":").append(value(draw));
        }
        json.append('}');
        String text = json.toString();
        return (draw.between(0, 3) == 0 ? text.substring(0, text.length() / 2) : text).getBytes(StandardCharsets.UTF_8);
    }

    static String value(Draw draw) {
        return switch (draw.between(0, 2)) {
            case 0 -> "\"" + draw.text(0, 60).replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
            case 1 -> String.valueOf(draw.anyInt());
            default -> draw.oneOf("null", "true", "[]", "{}", "1e999", "-0", "\"\\ud800\"", "\"\u0000\"", "\"\u200b\"",
                    "\"arn:aws:connect:us-east-1:123456789012:instance/other/agent/x\"",
                    "\"arn:aws:connect:eu-west-1:999999999999:instance/00000000-0000-4000-8000-000000000001/agent/demo-ada\"",
                    "{\"name\":42}", "{\"name\":\"\"}", "[\"a\",1]");
        };
    }

    static byte[] nested(Draw draw) {
        int depth = draw.size(5, 3000);
        return ("{\"token\":" + "[".repeat(depth) + "1" + "]".repeat(depth) + "}").getBytes(StandardCharsets.UTF_8);
    }

    static byte[] oversized(Draw draw) {
        return ("{\"agentArn\":\"" + "x".repeat(draw.size(4000, 20000)) + "\"}").getBytes(StandardCharsets.UTF_8);
    }
}

package backstop.beacon;

import backstop.core.random.RestoreSafeRandom;
import backstop.core.config.BackstopConfig;
import backstop.core.connect.ConnectAgentStatus;
import backstop.core.session.HeartbeatResult;
import backstop.core.transition.Backoff;
import backstop.core.transition.OfflineTransitions;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;

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
 * deeply nested and unicode-tricky bodies, paths and content types. Whatever comes in: never a 5xx, never a
 * call to Connect, never a write to the table, and always a JSON error body for a 4xx.
 */
class BeaconFuzzTest {
    static final String INSTANCE = "arn:aws:connect:us-east-1:123456789012:instance/00000000-0000-4000-8000-000000000001";
    static final AtomicLong CASES = new AtomicLong();
    static final java.util.Map<String, Long> BY_STATUS = new java.util.concurrent.ConcurrentHashMap<>();
    static final AtomicLong CONNECT_CALLS = new AtomicLong();
    static final AtomicLong WRITES = new AtomicLong();
    static final List<String> ROUTES = List.of("POST /sessions", "POST /sessions/{sessionId}/heartbeat",
            "POST /sessions/{sessionId}/close", "GET /sessions", "$default", "");

    @Property(tries = 10_000)
    void anyRequest_should_neverBreakTheHandlerNorTouchConnectOrTheTable(@ForAll("requests") APIGatewayV2HTTPEvent event) {
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

        assertThat(response.getStatusCode()).as("status for %s", event.getBody()).isBetween(200, 499);
        if (response.getStatusCode() >= 400) {
            assertThat(response.getBody()).startsWith("{\"error\":\"").contains("\"message\":\"");
            assertThat(response.getBody()).doesNotContain("Exception", "software.amazon", "at backstop");
        }
        assertThat(connect.puts).isEmpty();
        assertThat(connect.describes).isEmpty();
        assertThat(store.created).isEmpty();
        assertThat(store.closes).isEmpty();
    }

    @AfterContainer
    static void report() {
        // Counted as they happened (the property fails at the first bad one; these say what a green run saw).
        System.out.printf("fuzz: %d generated requests, answers by class %s, %d Connect calls, %d writes%n",
                CASES.get(), new java.util.TreeMap<>(BY_STATUS), CONNECT_CALLS.get(), WRITES.get());
    }

    @Provide
    Arbitrary<APIGatewayV2HTTPEvent> requests() {
        Arbitrary<String> route = Arbitraries.of(ROUTES);
        Arbitrary<String> sessionId = Arbitraries.oneOf(
                Arbitraries.strings().ofMinLength(0).ofMaxLength(40),
                Arbitraries.strings().withCharRange('A', 'z').ofLength(22),
                Arbitraries.of("../../etc/passwd", "%00", "qYsLsluUVmvAj6xM1jdaNg", "\u202e\u0000", "a".repeat(5000)));
        Arbitrary<String> contentType = Arbitraries.of("text/plain;charset=UTF-8", "application/json", "text/plain",
                "TEXT/PLAIN; charset=utf-16", "application/xml", "", "multipart/form-data; boundary=x",
                "application/json; charset=\u00e9", "text/plain\r\nX-Injected: 1");
        Arbitrary<String> origin = Arbitraries.of("https://ccp.example.com", "https://evil.example", "null", "");
        Arbitrary<byte[]> body = Arbitraries.oneOf(jsonish(), rawBytes(), nested(), oversized());
        Arbitrary<Boolean> base64 = Arbitraries.of(true, false);
        return Combinators.combine(route, sessionId, contentType, origin, body, base64).as((r, id, type, o, b, b64) -> {
            Map<String, String> headers = new HashMap<>();
            if (!type.isEmpty()) {
                headers.put("content-type", type);
            }
            if (!o.isEmpty()) {
                headers.put("origin", o);
            }
            return APIGatewayV2HTTPEvent.builder().withVersion("2.0").withRouteKey(r)
                    .withRawPath("/sessions").withHeaders(headers)
                    .withPathParameters(r.contains("{sessionId}") ? Map.of("sessionId", id) : null)
                    .withBody(b64 ? Base64.getEncoder().encodeToString(b) : new String(b, StandardCharsets.UTF_8))
                    .withIsBase64Encoded(b64).build();
        });
    }

    /** JSON-shaped text with wrong types, unknown fields, tricky unicode and truncation. */
    Arbitrary<byte[]> jsonish() {
        Arbitrary<String> value = Arbitraries.oneOf(
                Arbitraries.strings().ofMaxLength(60).map(s -> "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\""),
                Arbitraries.integers().map(String::valueOf),
                Arbitraries.of("null", "true", "[]", "{}", "1e999", "-0", "\"\\ud800\"", "\"\u0000\"", "\"\u200b\"",
                        "\"arn:aws:connect:us-east-1:123456789012:instance/other/agent/x\"",
                        "\"arn:aws:connect:eu-west-1:999999999999:instance/00000000-0000-4000-8000-000000000001/agent/demo-ada\"",
                        "{\"name\":42}", "{\"name\":\"\"}", "[\"a\",1]"));
        Arbitrary<String> key = Arbitraries.of("agentArn", "token", "status", "reason", "name", "arn", "__proto__", "", "agentArn");
        return Combinators.combine(key.list().ofMaxSize(5), value.list().ofMaxSize(5), Arbitraries.integers().between(0, 3))
                .as((keys, values, cut) -> {
                    StringBuilder json = new StringBuilder("{");
                    for (int i = 0; i < Math.min(keys.size(), values.size()); i++) {
                        json.append(i == 0 ? "" : ",").append('"').append(keys.get(i)).append("\":").append(values.get(i));
                    }
                    json.append('}');
                    String text = json.toString();
                    return (cut == 0 ? text.substring(0, text.length() / 2) : text).getBytes(StandardCharsets.UTF_8);
                });
    }

    Arbitrary<byte[]> rawBytes() {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(300);
    }

    Arbitrary<byte[]> nested() {
        return Arbitraries.integers().between(5, 3000).map(depth ->
                ("{\"token\":" + "[".repeat(depth) + "1" + "]".repeat(depth) + "}").getBytes(StandardCharsets.UTF_8));
    }

    Arbitrary<byte[]> oversized() {
        return Arbitraries.integers().between(4000, 20000).map(n ->
                ("{\"agentArn\":\"" + "x".repeat(n) + "\"}").getBytes(StandardCharsets.UTF_8));
    }
}

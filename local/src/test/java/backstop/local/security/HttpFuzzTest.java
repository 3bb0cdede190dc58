package backstop.local.security;

import backstop.core.fuzz.Draw;
import backstop.core.fuzz.FuzzRun;
import backstop.local.DemoInstance;
import backstop.local.LocalStack;
import backstop.local.connect.ConnectEmulator;
import backstop.local.connect.Quota;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hostile requests through real HTTP into the local front (the API Gateway stand-in), against a live session:
 * a 4xx (never a 2xx, never a 5xx), never a Connect call, never a change in the table. 1,000 requests from a fixed
 * seed; a failure names its seed and case ({@link FuzzRun}: -Dfuzz.seed, -Dfuzz.case).
 */
class HttpFuzzTest {
    static final FuzzRun RUN = FuzzRun.fromSystemProperties();
    static LocalStack stack;
    static String sessionId;
    static java.util.Set<java.util.Map<String, software.amazon.awssdk.services.dynamodb.model.AttributeValue>> tableBefore;
    static final AtomicLong CASES = new AtomicLong();
    static final java.util.Map<String, Long> BY_STATUS = new java.util.concurrent.ConcurrentHashMap<>();
    static final HttpClient HTTP = HttpClient.newHttpClient();
    /** demo-alan's valid token: the session's agent's own, so authorized registers reach the function. */
    static String validToken;

    @BeforeAll
    static void start() throws Exception {
        stack = LocalStack.start(LocalStack.Options.forTests());
        stack.connect().setQuota(Quota.OFF);
        validToken = stack.identity().idTokenFor("demo-alan");
        HttpResponse<String> registered = HTTP.send(HttpRequest.newBuilder(stack.frontUrl().resolve("/sessions"))
                .header("Authorization", "Bearer " + validToken)
                .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString(
                        "{\"agentArn\":\"" + DemoInstance.instanceArn(stack.instanceId()) + "/agent/demo-alan\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
        sessionId = new ObjectMapper().readTree(registered.body()).path("sessionId").asText();
        stack.connect().clearCalls();
        tableBefore = table();
    }

    @AfterAll
    static void stop() {
        System.out.printf("http fuzz: %d requests through the local front, answers by class %s, %d Connect calls, table unchanged: %s (seed %d)%n",
                CASES.get(), new java.util.TreeMap<>(BY_STATUS), stack.connect().calls().size(), table().equals(tableBefore), RUN.seed());
        stack.close();
    }

    /**
     * Every item of the table, attributes and values: any write shows, not only one that adds an item. All but the
     * beacons' counts of refused heartbeats (pk OUTAGE, sk REFUSED#...), which refusals are there to move: the
     * brake's flood signal, one write a window, never a session's state.
     */
    static java.util.Set<java.util.Map<String, software.amazon.awssdk.services.dynamodb.model.AttributeValue>> table() {
        return new java.util.HashSet<>(stack.clients().dynamoDb().scanPaginator(r -> r.tableName(stack.config().sessionsTable())
                .consistentRead(true)).items().stream()
                .filter(item -> !(item.get("pk").s().equals("OUTAGE") && item.get("sk").s().startsWith("REFUSED#"))).toList());
    }

    /** One drawn request; the body shown as text, and demo-alan's token by name (both readable in a failure). */
    record HostileRequest(String path, String contentType, String origin, byte[] body, String authorization) {
        @Override
        public String toString() {
            return "POST %s content-type=%s origin=%s authorization=%s body (%d bytes)=%s".formatted(path, contentType, origin,
                    authorization.replace(validToken, "<demo-alan's token>"), body.length, new String(body, StandardCharsets.UTF_8));
        }
    }

    @Test
    void anyHttpRequest_should_neverBreakTheApiNorChangeAnything() {
        RUN.check(1_000, draw -> new HostileRequest(path(draw), contentType(draw), origin(draw), body(draw), authorization(draw)),
                HttpFuzzTest::send);
    }

    static void send(HostileRequest hostile) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(stack.frontUrl() + hostile.path()))
                .POST(HttpRequest.BodyPublishers.ofByteArray(hostile.body()));
        if (!hostile.contentType().isEmpty()) {
            request.header("Content-Type", hostile.contentType());
        }
        if (!hostile.origin().isEmpty()) {
            request.header("Origin", hostile.origin());
        }
        if (!hostile.authorization().isEmpty()) {
            request.header("Authorization", hostile.authorization());
        }
        HttpResponse<String> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        CASES.incrementAndGet();
        BY_STATUS.merge(response.statusCode() / 100 + "xx", 1L, Long::sum);

        // No drawn request is one the API accepts (no register body names the token's agent on this instance, no
        // body carries the session's token): a 2xx would be a refusal let through.
        assertThat(response.statusCode()).as("status").isBetween(400, 499);
        assertThat(stack.connect().calls(ConnectEmulator.PUT_USER_STATUS)).isEmpty();
        assertThat(stack.connect().calls(ConnectEmulator.DESCRIBE_USER)).isEmpty();
        assertThat(table()).as("the table's content").isEqualTo(tableBefore);
    }

    static String path(Draw draw) {
        String id = switch (draw.between(0, 3)) {
            case 0 -> sessionId;
            case 1 -> draw.text(1, 30, 'a', 'z');
            case 2 -> draw.text(22, 22, 'A', 'Z');
            default -> draw.oneOf("%2e%2e%2f%2e%2e", "%00", "x%0d%0aInjected:1", "..", "%F0%9F%92%A9");
        };
        String template = draw.oneOf("/sessions/%s/close", "/sessions/%s/heartbeat", "/sessions", "/sessions/%s");
        return template.contains("%s") ? template.formatted(id) : template;
    }

    /** Authorization headers: none, random, truncated, oversized, another scheme, and the agent's valid token. */
    static String authorization(Draw draw) {
        String base64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        return switch (draw.between(0, 7)) {
            case 0 -> "";
            case 1 -> draw.text(0, 120).replaceAll("[^\\x20-\\x7e]", ""); // what HttpClient lets into a header
            case 2 -> "Bearer " + draw.text(0, 300, base64url) + "." + draw.text(0, 300, base64url) + "." + draw.text(0, 300, base64url);
            case 3 -> "Bearer " + validToken.substring(0, Math.min(draw.between(1, 400), validToken.length() - 1));
            case 4 -> {
                int n = draw.between(1, 40);
                yield "Bearer " + validToken.substring(0, validToken.length() - n) + "A".repeat(n);
            }
            case 5 -> "Bearer " + "A".repeat(12_000);
            case 6 -> draw.oneOf("Basic ZGVtby1hZGE6c2VjcmV0", "Digest username=\"demo-ada\"", "Bearer", "Bearer ", "bearer",
                    "Token " + validToken, "Bearer  " + validToken + " extra");
            default -> "Bearer " + validToken;
        };
    }

    static String contentType(Draw draw) {
        return draw.oneOf("text/plain;charset=UTF-8", "application/json", "text/plain", "application/xml", "",
                "text/plain; charset=utf-16", "multipart/form-data; boundary=x");
    }

    static String origin(Draw draw) {
        return draw.oneOf("", "https://evil.example", "null", stack.frontUrl().toString().replaceAll("/$", ""));
    }

    static byte[] body(Draw draw) {
        if (draw.coin()) {
            return draw.bytes(200);
        }
        String token = draw.text(43, 43, 'A', 'z');
        String text = switch (draw.between(0, 3)) {
            case 0 -> "{\"token\":\"" + token + "\",\"reason\":\"pagehide\"}";
            case 1 -> "{\"token\":\"" + token + "\",\"status\":{\"name\":" + token.length() + "}}";
            case 2 -> draw.text(0, 200);
            default -> draw.oneOf("{\"agentArn\":\"arn:aws:connect:us-east-1:123456789012:instance/x/agent/y\"}",
                    "{\"agentArn\":null}", "{\"token\":[]}", "[", "{\"a\":" + "[".repeat(200) + "}", "\u0000\u0001",
                    "{\"token\":\"\\ud83d\"}", "{\"agentArn\":\"" + "x".repeat(6000) + "\"}");
        };
        return text.getBytes(StandardCharsets.UTF_8);
    }
}

package backstop.local.security;

import backstop.local.DemoInstance;
import backstop.local.LocalStack;
import backstop.local.connect.ConnectEmulator;
import backstop.local.connect.Quota;
import com.fasterxml.jackson.databind.ObjectMapper;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Hostile requests through real HTTP into the local front (the API Gateway stand-in), against a live session:
 * never a 5xx, never a Connect call, never a change in the table.
 */
class HttpFuzzTest {
    static LocalStack stack;
    static String sessionId;
    static java.util.Set<java.util.Map<String, software.amazon.awssdk.services.dynamodb.model.AttributeValue>> tableBefore;
    static final AtomicLong CASES = new AtomicLong();
    static final java.util.Map<String, Long> BY_STATUS = new java.util.concurrent.ConcurrentHashMap<>();
    static final HttpClient HTTP = HttpClient.newHttpClient();
    /** demo-alan's valid token: the session's agent's own, so authorized registers reach the function. */
    static String validToken;

    @BeforeContainer
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

    @AfterContainer
    static void stop() {
        System.out.printf("http fuzz: %d requests through the local front, answers by class %s, %d Connect calls, table unchanged: %s%n",
                CASES.get(), new java.util.TreeMap<>(BY_STATUS), stack.connect().calls().size(), table().equals(tableBefore));
        stack.close();
    }

    /** Every item of the table, attributes and values: any write shows, not only one that adds an item. */
    static java.util.Set<java.util.Map<String, software.amazon.awssdk.services.dynamodb.model.AttributeValue>> table() {
        return new java.util.HashSet<>(stack.clients().dynamoDb().scanPaginator(r -> r.tableName(stack.config().sessionsTable())
                .consistentRead(true)).items().stream().toList());
    }

    @Property(tries = 1_000)
    void anyHttpRequest_should_neverBreakTheApiNorChangeAnything(@ForAll("paths") String path,
                                                               @ForAll("contentTypes") String contentType,
                                                               @ForAll("origins") String origin,
                                                               @ForAll("bodies") byte[] body,
                                                               @ForAll("authorizations") String authorization) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(stack.frontUrl() + path))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (!contentType.isEmpty()) {
            request.header("Content-Type", contentType);
        }
        if (!origin.isEmpty()) {
            request.header("Origin", origin);
        }
        if (!authorization.isEmpty()) {
            request.header("Authorization", authorization);
        }
        HttpResponse<String> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        CASES.incrementAndGet();
        BY_STATUS.merge(response.statusCode() / 100 + "xx", 1L, Long::sum);

        assertThat(response.statusCode()).as("%s %s", path, new String(body, StandardCharsets.UTF_8)).isLessThan(500);
        assertThat(stack.connect().calls(ConnectEmulator.PUT_USER_STATUS)).isEmpty();
        assertThat(stack.connect().calls(ConnectEmulator.DESCRIBE_USER)).isEmpty();
        assertThat(table()).as("the table's content").isEqualTo(tableBefore);
    }

    @Provide
    Arbitrary<String> paths() {
        Arbitrary<String> id = Arbitraries.oneOf(Arbitraries.just(sessionId),
                Arbitraries.strings().withCharRange('a', 'z').ofMinLength(1).ofMaxLength(30),
                Arbitraries.strings().withCharRange('A', 'Z').ofLength(22),
                Arbitraries.of("%2e%2e%2f%2e%2e", "%00", "x%0d%0aInjected:1", "..", "%F0%9F%92%A9"));
        return Combinators.combine(Arbitraries.of("/sessions/%s/close", "/sessions/%s/heartbeat", "/sessions", "/sessions/%s"), id)
                .as((template, value) -> template.contains("%s") ? template.formatted(value) : template);
    }

    /** Authorization headers: none, random, truncated, oversized, another scheme, and the agent's valid token. */
    @Provide
    Arbitrary<String> authorizations() {
        Arbitrary<String> base64url = Arbitraries.strings().withChars("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_").ofMaxLength(300);
        return Arbitraries.oneOf(
                Arbitraries.just(""),
                Arbitraries.strings().ofMaxLength(120).map(s -> s.replaceAll("[\\r\\n\\u0000-\\u001f\\u007f-\\uffff]", "")),
                Combinators.combine(base64url, base64url, base64url).as((a, b, c) -> "Bearer " + a + "." + b + "." + c),
                Arbitraries.integers().between(1, 400).map(n -> "Bearer " + validToken.substring(0, Math.min(n, validToken.length() - 1))),
                Arbitraries.integers().between(1, 40).map(n -> "Bearer " + validToken.substring(0, validToken.length() - n) + "A".repeat(n)),
                Arbitraries.just("Bearer " + "A".repeat(12_000)),
                Arbitraries.of("Basic ZGVtby1hZGE6c2VjcmV0", "Digest username=\"demo-ada\"", "Bearer", "Bearer ", "bearer",
                        "Token " + validToken, "Bearer  " + validToken + " extra"),
                Arbitraries.just("Bearer " + validToken));
    }

    @Provide
    Arbitrary<String> contentTypes() {
        return Arbitraries.of("text/plain;charset=UTF-8", "application/json", "text/plain", "application/xml", "",
                "text/plain; charset=utf-16", "multipart/form-data; boundary=x");
    }

    @Provide
    Arbitrary<String> origins() {
        return Arbitraries.of("", "https://evil.example", "null", stack.frontUrl().toString().replaceAll("/$", ""));
    }

    @Provide
    Arbitrary<byte[]> bodies() {
        Arbitrary<String> token = Arbitraries.strings().withCharRange('A', 'z').ofLength(43);
        Arbitrary<String> text = Arbitraries.oneOf(
                token.map(t -> "{\"token\":\"" + t + "\",\"reason\":\"pagehide\"}"),
                token.map(t -> "{\"token\":\"" + t + "\",\"status\":{\"name\":" + t.length() + "}}"),
                Arbitraries.strings().ofMaxLength(200),
                Arbitraries.of("{\"agentArn\":\"arn:aws:connect:us-east-1:123456789012:instance/x/agent/y\"}",
                        "{\"agentArn\":null}", "{\"token\":[]}", "[", "{\"a\":" + "[".repeat(200) + "}", "\u0000\u0001",
                        "{\"token\":\"\\ud83d\"}", "{\"agentArn\":\"" + "x".repeat(6000) + "\"}"));
        return Arbitraries.oneOf(text.map(t -> t.getBytes(StandardCharsets.UTF_8)),
                Arbitraries.bytes().array(byte[].class).ofMaxSize(200));
    }
}

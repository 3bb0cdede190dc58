package backstop.local.security;

import backstop.local.Waits;
import backstop.local.DemoInstance;
import backstop.local.LocalStack;
import backstop.local.browser.Chromium;
import backstop.local.connect.ConnectEmulator;
import backstop.local.connect.Quota;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.microsoft.playwright.Browser;
import com.microsoft.playwright.Page;
import com.sun.net.httpserver.HttpServer;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.WriterAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.layout.PatternLayout;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The beacon API as an attacker meets it, through real HTTP into the local front (and a real browser for the
 * hostile page): someone else's token, a guessed session id, a page on another origin; and the logs never
 * carry a token, a body or a name.
 */
class SecurityTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static LocalStack stack;
    static ConnectEmulator connect;
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static StringWriter logs;
    static java.util.function.Function<String, String> tokens;

    @BeforeAll
    static void start() throws Exception {
        logs = new StringWriter();
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        Configuration configuration = context.getConfiguration();
        WriterAppender appender = WriterAppender.newBuilder().setName("security-capture").setTarget(logs)
                .setLayout(PatternLayout.newBuilder().withPattern("%level %logger %msg %throwable%n").build()).build();
        appender.start();
        configuration.addAppender(appender);
        configuration.getRootLogger().addAppender(appender, Level.ALL, null);
        configuration.getLoggerConfig("backstop").addAppender(appender, Level.ALL, null);
        context.updateLoggers();
        stack = LocalStack.start(LocalStack.Options.forTests());
        connect = stack.connect();
        connect.setQuota(Quota.OFF);
        tokens = backstop.local.identity.Tokens.forAgentsOf(stack);
    }

    @AfterAll
    static void stop() {
        stack.close();
    }

    record Session(String id, String token) {
    }

    static String newAgent(String first, String last) {
        String userId = "sec-" + UUID.randomUUID();
        connect.addAgent(stack.instanceId(), userId, userId, first, last, "rp-sales", "Available");
        return userId;
    }

    static String arn(String userId) {
        return DemoInstance.instanceArn(stack.instanceId()) + "/agent/" + userId;
    }

    static HttpResponse<String> post(String path, String body, String origin) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(stack.frontUrl().resolve(path))
                .header("Content-Type", "text/plain;charset=UTF-8").POST(HttpRequest.BodyPublishers.ofString(body));
        if (origin != null) {
            request.header("Origin", origin);
        }
        if (path.equals("/sessions")) {
            request.header("Authorization", backstop.local.identity.Tokens.bearerFor(tokens, body));
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    static Session open(String userId) throws Exception {
        HttpResponse<String> response = post("/sessions", "{\"agentArn\":\"" + arn(userId) + "\"}", null);
        assertThat(response.statusCode()).isEqualTo(201);
        var json = JSON.readTree(response.body());
        return new Session(json.path("sessionId").asText(), json.path("token").asText());
    }

    static String sessionState(String sessionId) {
        Map<String, AttributeValue> item = stack.clients().dynamoDb().getItem(r -> r.tableName(stack.config().sessionsTable())
                .key(Map.of("pk", AttributeValue.fromS("SESSION#" + sessionId), "sk", AttributeValue.fromS("SESSION")))
                .consistentRead(true)).item();
        return item.get("sessionState").s();
    }

    static long puts(String userId) {
        return connect.calls(ConnectEmulator.PUT_USER_STATUS).stream().filter(c -> userId.equals(c.userId())).count();
    }

    @Test
    void anotherSessionsToken_should_neverCloseThisSession() throws Exception {
        String victim = newAgent("Victim", "Agent");
        String attacker = newAgent("Attacker", "Agent");
        Session victimSession = open(victim);
        Session attackerSession = open(attacker);

        HttpResponse<String> swapped = post("/sessions/" + victimSession.id() + "/close",
                "{\"token\":\"" + attackerSession.token() + "\"}", null);
        HttpResponse<String> beat = post("/sessions/" + victimSession.id() + "/heartbeat",
                "{\"token\":\"" + attackerSession.token() + "\"}", null);

        assertThat(swapped.statusCode()).isEqualTo(403);
        assertThat(beat.statusCode()).isEqualTo(403);
        assertThat(sessionState(victimSession.id())).isEqualTo("OPEN");
        assertThat(sessionState(attackerSession.id())).isEqualTo("OPEN");
        assertThat(puts(victim)).isZero();
        assertThat(connect.agentView(stack.instanceId(), victim).statusName()).isEqualTo("Available");
    }

    @Test
    void logs_should_neverCarryTokensBodiesOrNames() throws Exception {
        String user = newAgent("Philippa", "Fawcett-Secret");
        Session session = open(user);
        post("/sessions/" + session.id() + "/heartbeat", "{\"token\":\"" + session.token() + "\"}", null);
        String forgedToken = "Z".repeat(43);
        post("/sessions/" + session.id() + "/close", "{\"token\":\"" + forgedToken + "\",\"reason\":\"pagehide\"}", null);
        post("/sessions", "{\"agentArn\":\"" + arn(user) + "\",\"status\":{\"name\":\"Lunch with Philippa\"}}", "https://evil.example");
        post("/sessions", "{not json " + session.token() + "}", null);
        connect.setFault(ConnectEmulator.PUT_USER_STATUS, backstop.local.connect.OperationFault.errors(1.0));
        post("/sessions/" + session.id() + "/close", "{\"token\":\"" + session.token() + "\",\"status\":{\"name\":\"Private note\"}}", null);
        connect.clearFaults();
        connect.setQuota(Quota.OFF);

        String captured = logs.toString();
        assertThat(captured).as("the flow was logged at all").contains(session.id()).contains(user);
        assertThat(captured).doesNotContain(session.token()).doesNotContain(forgedToken)
                .doesNotContain(tokens.apply(user)).doesNotContain(tokens.apply(user).split("\\.")[1])
                .doesNotContain("Philippa").doesNotContain("Fawcett").doesNotContain("Private note")
                .doesNotContain("{not json").doesNotContain("agentArn");
    }

    @Test
    void hostilePageOnAnotherOrigin_should_notCloseTheAgentsSession_evenWithTheRightSessionId() throws Exception {
        String user = newAgent("Hostile", "Target");
        Session session = open(user);
        String target = stack.frontUrl().toString();
        // The attacker's page: another origin, guessing ids and even holding the real session id, but no token.
        String page = """
                <!doctype html><html><body><script>
                const api = %s;
                const send = (id, token) => navigator.sendBeacon(api + '/sessions/' + id + '/close',
                    JSON.stringify({token, reason: 'pagehide'}));
                window.results = [send('AAAAAAAAAAAAAAAAAAAAAA', 'A'.repeat(43)), send(%s, 'B'.repeat(43)),
                                  send(%s, undefined)];
                document.body.dataset.done = 'yes';
                </script></body></html>
                """.formatted(JSON.writeValueAsString(target), JSON.writeValueAsString(session.id()),
                JSON.writeValueAsString(session.id()));
        HttpServer hostile = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
        hostile.createContext("/", exchange -> {
            byte[] body = page.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        hostile.start();
        int before = stack.accessLog().size();
        try (Chromium chromium = new Chromium()) {
            Browser browser = chromium.launch();
            Page tab = browser.newContext().newPage();
            StringBuilder pageErrors = new StringBuilder();
            tab.onPageError(pageErrors::append);
            tab.navigate(URI.create("http://127.0.0.1:" + hostile.getAddress().getPort() + "/").toString());
            // The page shows nothing, so wait for the attribute, not for visibility.
            tab.waitForSelector("body[data-done='yes']", new Page.WaitForSelectorOptions().setTimeout(10_000)
                    .setState(com.microsoft.playwright.options.WaitForSelectorState.ATTACHED));
            assertThat(pageErrors.toString()).as("hostile page errors").isEmpty();
            assertThat(tab.evaluate("window.results").toString()).contains("true");

            // The beacons did reach the API (from the hostile origin) and were refused.
            await().atMost(Waits.PROMPT).until(() -> stack.accessLog().subList(before, stack.accessLog().size())
                    .stream().filter(line -> line.contains("/close")).count() == 3);
            assertThat(stack.accessLog().subList(before, stack.accessLog().size()))
                    .filteredOn(line -> line.contains("/close"))
                    .allSatisfy(line -> assertThat(line).contains(" 403 ").contains("origin=http://127.0.0.1:" + hostile.getAddress().getPort()));
            browser.close();
        } finally {
            hostile.stop(0);
        }
        assertThat(sessionState(session.id())).isEqualTo("OPEN");
        assertThat(puts(user)).isZero();
        assertThat(connect.agentView(stack.instanceId(), user).statusName()).isEqualTo("Available");
    }
}

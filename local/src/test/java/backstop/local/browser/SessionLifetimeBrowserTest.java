package backstop.local.browser;

import backstop.core.config.BackstopConfig;
import backstop.local.LocalStack;
import backstop.local.Waits;
import backstop.local.connect.ConnectEmulator;
import backstop.local.connect.Quota;
import backstop.reconciler.ReconcilerMetrics;
import backstop.reconciler.ReconcilerWiring;
import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Request;
import com.microsoft.playwright.Route;
import com.microsoft.playwright.assertions.PlaywrightAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A session past MAX_SESSION_HOURS in real Chromium against the local stack and its identity provider: the
 * heartbeat gets 410 session_expired, the page registers again by itself with an ID token refreshed through its
 * refresh token (the one it kept ran out hours ago), and the agent stays Available, never set Offline. The stack
 * runs on the wall clock, so the hours are moved in the table: the session's register time back by the maximum
 * age, its deferred Offline's due time to now (a stale limit has passed).
 */
class SessionLifetimeBrowserTest {
    static final int HEARTBEAT = 5;
    static final String AGENT = "demo-grace";
    /** The renewal's agent: each test's agent has its own sessions, statuses and Offline events. */
    static final String RENEWING = "demo-linus";
    static LocalStack stack;
    static Chromium chromium;
    static Browser browser;

    @BeforeAll
    static void start() throws Exception {
        stack = LocalStack.start(LocalStack.Options.forTests().withEnvironment(Map.of("HEARTBEAT_SECONDS", "" + HEARTBEAT)));
        stack.connect().setQuota(Quota.OFF);
        chromium = new Chromium();
        browser = chromium.launch();
    }

    @AfterAll
    static void stop() {
        browser.close();
        chromium.close();
        stack.close();
    }

    static Map<String, AttributeValue> item(String pk, String sk) {
        return stack.clients().dynamoDb().getItem(r -> r.tableName(stack.config().sessionsTable())
                .key(Map.of("pk", AttributeValue.fromS(pk), "sk", AttributeValue.fromS(sk))).consistentRead(true)).item();
    }

    static void set(String pk, String sk, String attribute, Instant at) {
        stack.clients().dynamoDb().updateItem(r -> r.tableName(stack.config().sessionsTable())
                .key(Map.of("pk", AttributeValue.fromS(pk), "sk", AttributeValue.fromS(sk)))
                .updateExpression("SET " + attribute + " = :at")
                .expressionAttributeValues(Map.of(":at", AttributeValue.fromN(String.valueOf(at.toEpochMilli())))));
    }

    static List<String> openSessions() {
        return openSessions(AGENT);
    }

    static List<String> openSessions(String userId) {
        Map<String, AttributeValue> agent = item("AGENT#" + stack.instanceId() + "#" + userId, "AGENT");
        return agent.containsKey("openSessions") ? agent.get("openSessions").ss() : List.of();
    }

    static long accessed(String prefix) {
        return stack.accessLog().stream().filter(line -> line.startsWith(prefix)).count();
    }

    @Test
    void sessionNearItsEnd_should_beRenewedByThePage_beforeAny410_withTheOldOneClosedAsReplaced_andTheAgentNeverSetOffline() {
        BrowserContext context = browser.newContext();
        Page page = context.newPage();
        // The stack runs on the wall clock, and a session lives hours: the first register's answer is told to end
        // 12 s from now, so the page renews it within seconds (a tenth of that life before the end, on a beat); the
        // server's own end stays hours away, so a 410 here could only be the page's failure.
        AtomicBoolean shortened = new AtomicBoolean();
        page.route("**/sessions", route -> {
            if (!route.request().method().equals("POST") || shortened.getAndSet(true)) {
                route.resume();
                return;
            }
            var answer = route.fetch();
            String body = answer.text().replaceFirst("\"expiresAt\":\"[^\"]+\"",
                    "\"expiresAt\":\"" + Instant.now().plusSeconds(12) + "\"");
            route.fulfill(new Route.FulfillOptions().setResponse(answer).setBody(body));
        });
        CcpPage.openAvailable(stack, page, RENEWING);
        assertThat(shortened).isTrue();
        String old = openSessions(RENEWING).getFirst();
        long opened = accessed("POST /sessions 201");

        page.waitForCondition(() -> accessed("POST /sessions/" + old + "/close 202") == 1,
                new Page.WaitForConditionOptions().setTimeout(Duration.ofSeconds(12 + HEARTBEAT).plus(Waits.PROMPT).toMillis()));

        assertThat(accessed("POST /sessions 201")).as("one renewal register").isEqualTo(opened + 1);
        List<String> open = openSessions(RENEWING);
        assertThat(open).as("the renewed session alone is open").hasSize(1).doesNotContain(old);
        String renewed = open.getFirst();
        Map<String, AttributeValue> closed = item("SESSION#" + old, "SESSION");
        assertThat(closed.get("closeReason").s()).isEqualTo("replaced");
        assertThat(closed.get("closeOutcome").s()).as("another session of the agent was open").isEqualTo("not-needed");
        assertThat(item("TRANSITION#" + old, "TRANSITION")).as("no Offline transition written").isEmpty();
        page.waitForCondition(() -> accessed("POST /sessions/" + renewed + "/heartbeat 200") > 0,
                new Page.WaitForConditionOptions().setTimeout(Duration.ofSeconds(HEARTBEAT).plus(Waits.PROMPT).toMillis()));
        assertThat(accessed("POST /sessions/" + old + "/heartbeat 410")).as("no beat was refused").isZero();
        assertThat(accessed("POST /sessions/" + old + "/heartbeat 200")).as("the old session beat until then").isPositive();
        PlaywrightAssertions.assertThat(page.locator("body")).hasAttribute("data-backstop", "open");
        PlaywrightAssertions.assertThat(page.locator("#backstop-state")).containsText("Protected");
        PlaywrightAssertions.assertThat(page.locator("#banner")).isHidden();
        assertThat(stack.connect().agentView(stack.instanceId(), RENEWING).statusName()).isEqualTo("Available");
        assertThat(stack.connect().calls(ConnectEmulator.PUT_USER_STATUS)).as("nobody set the agent Offline")
                .noneMatch(c -> RENEWING.equals(c.userId()) && c.accessKeyId() != null);
        assertThat(stack.events().events("Agent Set Offline", "userId", RENEWING)).isEmpty();

        // The renewed session protects: closing the tab sets the agent Offline.
        page.close();
        CcpPage.awaitBackstopOffline(stack, RENEWING);
        context.close();
    }

    @Test
    void sessionPastItsMaximumAge_should_get410_registerAgainSilentlyWithARefreshedToken_andKeepTheAgentAvailable() {
        BackstopConfig config = stack.config();
        BrowserContext context = browser.newContext();
        Page page = context.newPage();
        List<Request> requests = new CopyOnWriteArrayList<>();
        page.onRequest(requests::add);
        CcpPage.openAvailable(stack, page, AGENT);
        String old = openSessions().getFirst();
        String issuer = stack.identity().issuer().toString();

        // Ten hours on: the session was registered MAX_SESSION_HOURS ago, and the ID token the page kept ran out.
        set("SESSION#" + old, "SESSION", "createdAt", Instant.now().minus(Duration.ofHours(config.maxSessionHours())));
        String keptToken = (String) page.evaluate("""
                () => { const saved = JSON.parse(sessionStorage.getItem('ccp-backstop.sign-in'));
                  saved.expiresAt = Date.now() - 1; sessionStorage.setItem('ccp-backstop.sign-in', JSON.stringify(saved));
                  return saved.idToken; }""");
        long opened = accessed("POST /sessions 201");
        long refused = accessed("POST /sessions 401");
        requests.clear();

        // Waited on through the page, so Playwright delivers the page's request events meanwhile.
        page.waitForCondition(() -> accessed("POST /sessions 201") == opened + 1,
                new Page.WaitForConditionOptions().setTimeout(Duration.ofSeconds(HEARTBEAT).plus(Waits.PROMPT).toMillis()));

        assertThat(accessed("POST /sessions/" + old + "/heartbeat 410")).as("the expired session's beat").isEqualTo(1);
        assertThat(requests).as("a refresh at the identity provider's token endpoint")
                .anySatisfy(r -> assertThat(r.url()).isEqualTo(issuer + "/token"));
        Request register = requests.stream().filter(r -> r.url().endsWith("/sessions") && r.method().equals("POST")).findFirst().orElseThrow();
        assertThat(register.headers().get("authorization")).as("a token issued anew, not the one that ran out")
                .startsWith("Bearer ey").isNotEqualTo("Bearer " + keptToken);
        assertThat(accessed("POST /sessions 401")).as("no register was refused on the way").isEqualTo(refused);
        PlaywrightAssertions.assertThat(page.locator("body")).hasAttribute("data-backstop", "open");
        PlaywrightAssertions.assertThat(page.locator("#backstop-state")).containsText("Protected");
        PlaywrightAssertions.assertThat(page.locator("#banner")).isHidden();
        PlaywrightAssertions.assertThat(page.locator("#notice")).isHidden();
        String renewed = openSessions().getFirst();
        assertThat(openSessions()).as("the new session alone is open").containsExactly(renewed).doesNotContain(old);
        assertThat(item("SESSION#" + old, "SESSION").get("closeReason").s()).isEqualTo("expired");

        // A stale limit on: the expired session's deferred Offline comes due while the new one beats.
        await().atMost(Duration.ofSeconds(HEARTBEAT).plus(Waits.PROMPT))
                .until(() -> accessed("POST /sessions/" + renewed + "/heartbeat 200") > 0);
        set("TRANSITION#" + old, "TRANSITION", "nextAttemptAt", Instant.now().minusMillis(1));
        ReconcilerWiring.reconciler(config, stack.reconcilerClients(), Clock.systemUTC(), wake -> { }, ReconcilerMetrics.NONE).sweepOnce();

        assertThat(item("TRANSITION#" + old, "TRANSITION").get("transitionState").s()).isEqualTo("NOT_NEEDED");
        assertThat(stack.connect().agentView(stack.instanceId(), AGENT).statusName()).isEqualTo("Available");
        assertThat(stack.connect().calls(ConnectEmulator.PUT_USER_STATUS)).as("nobody set the agent Offline")
                .noneMatch(c -> AGENT.equals(c.userId()) && c.accessKeyId() != null);
        assertThat(stack.events().events("Agent Set Offline", "userId", AGENT)).isEmpty();

        // And it still protects: closing the tab sets the agent Offline.
        page.close();
        CcpPage.awaitBackstopOffline(stack, AGENT);
        context.close();
    }
}

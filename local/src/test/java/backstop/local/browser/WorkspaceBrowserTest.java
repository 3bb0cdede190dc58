package backstop.local.browser;

import backstop.local.LocalStack;
import backstop.local.Waits;
import backstop.local.connect.ConnectEmulator;
import backstop.local.connect.Quota;
import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Route;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The ccp-backstop service in the (local) Agent Workspace, in real Chromium: the workspace on http://localhost:<port>
 * frames the service from http://127.0.0.1:<front> (another site: its own renderer process, partitioned storage),
 * with the workspace's default sandbox, and third-party cookies blocked.
 */
class WorkspaceBrowserTest {
    /** The start timeout the faults run under: a start that hangs fails this, as the workspace would. */
    static final int START_TIMEOUT_MS = 5_000;
    /** Each fault is tried this many times: the start must complete every time, not on average. */
    static final int RUNS = 3;
    static LocalStack stack;
    static Chromium chromium;
    static Browser browser;

    @BeforeAll
    static void start() throws Exception {
        stack = LocalStack.start(LocalStack.Options.forTests());
        stack.connect().setQuota(Quota.OFF);
        chromium = new Chromium();
        // Third-party cookies off, as Chromium's tracking protection makes them: the service keeps tokens in memory.
        browser = chromium.launch("--test-third-party-cookie-phaseout");
    }

    @AfterAll
    static void stop() {
        browser.close();
        chromium.close();
        stack.close();
    }

    static String newAgent() {
        String userId = "workspace-" + UUID.randomUUID();
        stack.connect().addAgent(stack.instanceId(), userId, userId, "Workspace", "Agent", "rp-sales", "Offline");
        return userId;
    }

    static Page openProtectedAndAvailable(BrowserContext context, String userId, List<String> errors) {
        return WorkspacePage.openProtectedAndAvailable(stack, context, userId, errors);
    }

    static String status(String userId) {
        return stack.connect().agentView(stack.instanceId(), userId).statusName();
    }

    /**
     * The figures, printed per run: the start the service adds to the workspace (iframe added -> create
     * completed, as the stand-in measures it) and tab closed -> Offline in Connect (the beacon's PutUserStatus).
     */
    @Test
    void closingTheWorkspaceTab_should_setTheAgentOffline_byTheServiceIframesPagehideBeacon() {
        String serviceOrigin = "http://127.0.0.1:" + stack.frontUrl().getPort();
        List<Long> starts = new ArrayList<>();
        List<Long> closes = new ArrayList<>();
        for (int run = 0; run < RUNS; run++) {
            String userId = newAgent();
            List<String> errors = new ArrayList<>();
            BrowserContext context = browser.newContext();
            Page page = openProtectedAndAvailable(context, userId, errors);
            starts.add(WorkspacePage.startMillis(page));
            long closesBefore = closesFrom(serviceOrigin);

            Instant closing = Instant.now();
            page.close(); // the workspace tab goes; only the service iframe's pagehide can tell

            CcpPage.awaitBackstopOffline(stack, userId);
            closes.add(Duration.between(closing, Instant.now()).toMillis());
            assertThat(status(userId)).isEqualTo("Offline");
            // The close beacon came from the service iframe (its origin), not from a sweep after staleness.
            await("the close beacon's answer").atMost(Waits.PROMPT).until(() -> closesFrom(serviceOrigin) == closesBefore + 1);
            await().atMost(Waits.PROMPT).untilAsserted(() ->
                    assertThat(stack.events().events("Agent Set Offline", "userId", userId)).singleElement()
                            .satisfies(e -> assertThat(e.path("detail").path("reason").asText()).isEqualTo("tab-closed")));
            assertThat(stack.connect().calls(ConnectEmulator.PUT_USER_STATUS)).filteredOn(c -> userId.equals(c.userId())).hasSize(1);
            assertThat(errors).isEmpty();
            context.close();
        }
        System.out.printf("workspace: service start (iframe added -> create completed) ms %s; tab closed -> Offline ms %s%n", starts, closes);
    }

    static long closesFrom(String origin) {
        return stack.accessLog().stream().filter(line -> line.matches("POST /sessions/[^/]+/close 202 origin=" + origin)).count();
    }

    @Test
    void reloadingTheWorkspace_should_restoreTheAgentsStatus() {
        String userId = newAgent();
        List<String> errors = new ArrayList<>();
        BrowserContext context = browser.newContext();
        Page page = openProtectedAndAvailable(context, userId, errors);

        page.reload(); // the old service's beacon sets Offline; the new one registers and puts Available back

        assertThat(page.locator("body")).hasAttribute("data-workspace", "started");
        assertThat(WorkspacePage.service(page).locator("body")).hasAttribute("data-restore", "restored",
                new com.microsoft.playwright.assertions.LocatorAssertions.HasAttributeOptions().setTimeout(Waits.PROMPT.toMillis()));
        await().atMost(Waits.PROMPT).until(() -> status(userId).equals("Available"));
        assertThat(WorkspacePage.service(page).locator("body")).hasAttribute("data-backstop", "open");
        assertThat(errors).isEmpty();
        context.close();
    }

    @Test
    void register_should_beRefused_withoutTheAgentsOwnToken_evenFromTheServiceOrigin() {
        String userId = newAgent();
        BrowserContext context = browser.newContext();
        Page page = openProtectedAndAvailable(context, userId, new ArrayList<>());
        String agentArn = stack.connect().agentView(stack.instanceId(), userId).agentArn();
        String others = stack.identity().idTokenFor("demo-ada");
        long sessionsBefore = stack.accessLog().stream().filter(l -> l.startsWith("POST /sessions 201")).count();

        // Script in the service's own origin (what an XSS or a hostile app sharing the origin could run).
        @SuppressWarnings("unchecked")
        List<Object> answers = (List<Object>) WorkspacePage.serviceFrame(page).evaluate("""
                async ([arn, token]) => {
                  const post = (headers) => fetch('/sessions', { method: 'POST', headers: { 'Content-Type': 'text/plain', ...headers },
                    body: JSON.stringify({ agentArn: arn }) }).then((r) => r.status);
                  return [await post({}), await post({ Authorization: 'Bearer ' + token }), await post({ Authorization: 'Bearer forged.token.here' })];
                }""", List.of(agentArn, others));

        assertThat(answers).containsExactly(401, 403, 401);
        assertThat(stack.accessLog().stream().filter(l -> l.startsWith("POST /sessions 201")).count()).isEqualTo(sessionsBefore);
        assertThat(status(userId)).isEqualTo("Available");
        context.close();
    }

    @Test
    void start_should_complete_andThePageSayUnprotected_whenTheBackstopApiIsDown() {
        stack.front().failRoute("POST /sessions", 503);
        try {
            assertStartsUnprotected(context -> { }, "backstop");
        } finally {
            stack.front().failRoute("POST /sessions", 0);
        }
    }

    @Test
    void start_should_complete_andThePageSayUnprotected_whenTheIdentityProviderIsDown() {
        String issuer = stack.identity().issuer().toString();
        assertStartsUnprotected(context -> context.route(issuer + "/**", Route::abort), "sign-in failed");
    }

    @Test
    void start_should_complete_andThePageSayUnprotected_whenTheBackstopScriptThrows() {
        assertStartsUnprotected(context -> context.route("**/workspace/dist/protection.js", route -> route.fulfill(
                new Route.FulfillOptions().setStatus(200).setContentType("text/javascript").setBody("throw new Error('backstop broke');"))),
                "backstop broke");
    }

    /** The host is faithful: a service that never completes create fails the workspace's start, at the timeout. */
    @Test
    void localWorkspace_should_failTheStart_whenTheServiceNeverCompletesCreate() {
        BrowserContext context = browser.newContext();
        context.route("**/workspace/dist/service.js", route -> route.fulfill(new Route.FulfillOptions().setStatus(200)
                .setContentType("text/javascript").setBody("/* a service that never answers */")));
        Page page = context.newPage();
        WorkspacePage.open(stack, page, newAgent(), "&timeout=" + START_TIMEOUT_MS);

        assertThat(page.locator("body")).hasAttribute("data-workspace", "failed");
        assertThat(page.locator("#start")).containsText("did not start within " + START_TIMEOUT_MS + " ms");
        assertThat(WorkspacePage.startMillis(page)).isGreaterThanOrEqualTo(START_TIMEOUT_MS);
        context.close();
    }

    void assertStartsUnprotected(Consumer<BrowserContext> fault, String reason) {
        for (int run = 0; run < RUNS; run++) {
            String userId = newAgent();
            BrowserContext context = browser.newContext();
            fault.accept(context);
            Page page = context.newPage();
            WorkspacePage.open(stack, page, userId, "&timeout=" + START_TIMEOUT_MS);

            assertThat(page.locator("body")).hasAttribute("data-workspace", "started");
            assertThat(WorkspacePage.startMillis(page)).isLessThan(START_TIMEOUT_MS);
            assertThat(WorkspacePage.service(page).locator("body")).hasAttribute("data-protected", "no");
            assertThat(WorkspacePage.service(page).locator("#state")).containsText("Not protected",
                    new com.microsoft.playwright.assertions.LocatorAssertions.ContainsTextOptions().setTimeout(Waits.PROMPT.toMillis()));
            assertThat(WorkspacePage.service(page).locator("#state")).containsText(reason);
            System.out.printf("workspace start with the fault (%s): %d ms%n", reason, WorkspacePage.startMillis(page));
            context.close();
        }
    }
}

package backstop.local.browser;

import backstop.local.Waits;
import backstop.core.config.BackstopConfig;
import backstop.local.DemoInstance;
import backstop.local.LocalStack;
import backstop.local.connect.ConnectEmulator;
import backstop.local.connect.Quota;
import backstop.reconciler.ReconcilerMetrics;
import backstop.reconciler.ReconcilerWiring;
import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.assertions.LocatorAssertions;
import com.microsoft.playwright.assertions.PlaywrightAssertions;
import com.microsoft.playwright.options.AriaRole;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The CCP page's lifecycle in real Chromium against the local stack: reload restore, the banner after the
 * server closed a sleeping tab's session, the leave-page confirmation on a live contact, and screenshots.
 */
class CcpPageBrowserTest {
    static final int HEARTBEAT = 5;
    static final Path SCREENSHOTS = Path.of("target", "screenshots");
    static LocalStack stack;
    static Chromium chromium;
    static Browser browser;

    @BeforeAll
    static void start() throws Exception {
        stack = LocalStack.start(LocalStack.Options.forTests().withEnvironment(Map.of("HEARTBEAT_SECONDS", "" + HEARTBEAT)));
        stack.connect().setQuota(Quota.OFF);
        chromium = new Chromium();
        browser = chromium.launch();
        Files.createDirectories(SCREENSHOTS);
    }

    @AfterAll
    static void stop() {
        browser.close();
        chromium.close();
        stack.close();
    }

    static String newAgent(LocalStack on) {
        String userId = "page-" + UUID.randomUUID();
        on.connect().addAgent(on.instanceId(), userId, userId, "Page", "Agent", "rp-sales", "Offline");
        return userId;
    }

    static String status(LocalStack on, String userId) {
        return on.connect().agentView(on.instanceId(), userId).statusName();
    }

    static void choose(Page page, String statusName) {
        page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName(statusName)).click();
    }

    /** Reload restore, timed: from the reload to Connect showing the agent's status back, through Offline. */
    static Duration reloadAndWaitForRestore(LocalStack on, Page page, String userId, String expected) {
        long putsBefore = puts(on, userId);
        Instant reload = Instant.now();
        page.reload();
        page.waitForSelector("body[data-restore='restored']", new Page.WaitForSelectorOptions().setTimeout(Waits.PROMPT.toMillis()));
        await().atMost(Waits.PROMPT).pollInterval(Duration.ofMillis(10)).until(() -> status(on, userId).equals(expected));
        Duration took = Duration.between(reload, Instant.now());
        assertThat(puts(on, userId)).as("the close beacon set the agent Offline first").isEqualTo(putsBefore + 1);
        return took;
    }

    static long puts(LocalStack on, String userId) {
        return on.connect().calls(ConnectEmulator.PUT_USER_STATUS).stream().filter(c -> userId.equals(c.userId())).count();
    }

    @Test
    void reload_should_restoreTheStatusTheAgentHad_andPublishAgentStatusRestored() throws Exception {
        String userId = newAgent(stack);
        List<String> errors = new CopyOnWriteArrayList<>();
        BrowserContext context = browser.newContext();
        Page page = CcpPage.watched(context, errors);
        CcpPage.openAvailable(stack, page, userId);
        choose(page, "Break");
        await().atMost(Waits.PROMPT).until(() -> status(stack, userId).equals("Break"));

        List<Long> millis = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            millis.add(reloadAndWaitForRestore(stack, page, userId, "Break").toMillis());
        }

        System.out.printf("reload restore latency (reload -> status back in Connect), ms: %s; median %d%n", millis,
                millis.stream().sorted().toList().get(millis.size() / 2));
        PlaywrightAssertions.assertThat(page.locator("#notice")).containsText("(Break) was restored");
        page.screenshot(new Page.ScreenshotOptions().setPath(SCREENSHOTS.resolve("ccp-restored.png")).setFullPage(true));
        String agentArn = DemoInstance.instanceArn(stack.instanceId()) + "/agent/" + userId;
        await().atMost(Waits.PROMPT).untilAsserted(() ->
                assertThat(stack.events().events("Agent Status Restored", "agentArn", agentArn)).hasSize(5)
                        .allSatisfy(e -> assertThat(e.path("detail").path("statusName").asText()).isEqualTo("Break")));
        assertThat(errors).isEmpty();
        context.close();
    }

    @Test
    void reload_should_leaveTheAgentOffline_when_policyIsStayOffline() throws Exception {
        try (LocalStack stayOffline = LocalStack.start(LocalStack.Options.forTests()
                .withEnvironment(Map.of("RELOAD_POLICY", "stay-offline")))) {
            stayOffline.connect().setQuota(Quota.OFF);
            String userId = newAgent(stayOffline);
            BrowserContext context = browser.newContext();
            Page page = context.newPage();
            CcpPage.openAvailable(stayOffline, page, userId);

            page.reload();
            page.waitForSelector("body[data-backstop='open']", new Page.WaitForSelectorOptions().setTimeout(Waits.PROMPT.toMillis()));
            await().atMost(Waits.PROMPT).until(() -> puts(stayOffline, userId) == 1);

            assertThat(status(stayOffline, userId)).isEqualTo("Offline");
            assertThat(page.evaluate("() => document.body.dataset.restore ?? 'none'")).isEqualTo("none");
            assertThat(stayOffline.events().events("Agent Status Restored", "statusName", "Available")).isEmpty();
            context.close();
        }
    }

    @Test
    void sleptTab_should_showTheBannerAndRegisterAgain_when_theServerClosedItsSession() throws Exception {
        String userId = newAgent(stack);
        BrowserContext context = browser.newContext();
        Page page = context.newPage();
        CcpPage.openAvailable(stack, page, userId);
        long registersBefore = count("POST /sessions 201");

        // The laptop "sleeps": the reconciler, its clock past the stale limit, closes the session and sets Offline.
        BackstopConfig config = stack.config();
        Clock later = Clock.offset(Clock.systemUTC(), Duration.ofSeconds(config.staleAfterSeconds() + 1));
        ReconcilerWiring.reconciler(config, stack.reconcilerClients(), later, wake -> { }, ReconcilerMetrics.NONE).sweepOnce();
        await().atMost(Waits.PROMPT).until(() -> status(stack, userId).equals("Offline"));

        // The next heartbeat (at most HEARTBEAT away) is answered 410: the page registers again at once, and what
        // the alarm said (set Offline while out of contact) stays as a notice the agent can act on.
        PlaywrightAssertions.assertThat(page.locator("#notice")).containsText("Reconnected. You were set Offline at",
                new LocatorAssertions.ContainsTextOptions().setTimeout(HEARTBEAT * 1000 + Waits.PROMPT.toMillis()));
        assertThat(count("/heartbeat 410")).isGreaterThanOrEqualTo(1);
        await("registered again").atMost(Waits.PROMPT).until(() -> count("POST /sessions 201") > registersBefore);
        page.waitForSelector("body[data-backstop='open']", new Page.WaitForSelectorOptions().setTimeout(Waits.PROMPT.toMillis()));
        assertThat(status(stack, userId)).as("no restore after a stale close: the agent decides").isEqualTo("Offline");
        PlaywrightAssertions.assertThat(page.locator("#banner")).isHidden();
        PlaywrightAssertions.assertThat(page.locator("#backstop-state")).containsText("Protected");
        page.screenshot(new Page.ScreenshotOptions().setPath(SCREENSHOTS.resolve("ccp-banner.png")).setFullPage(true));
        context.close();
    }

    /**
     * Asks what a close would do now: fires a cancelable beforeunload at the real page, as the browser does
     * before it closes the tab; true when the page asks for the leave-page confirmation.
     */
    static boolean wouldAskToLeave(Page page) {
        return (Boolean) page.evaluate("() => { const e = new Event('beforeunload', { cancelable: true });"
                + " dispatchEvent(e); return e.defaultPrevented; }");
    }

    @Test
    void beforeunload_should_askTheLeavePageConfirmation_onlyWhileAContactIsLive() {
        String userId = newAgent(stack);
        BrowserContext context = browser.newContext();
        Page page = context.newPage();
        CcpPage.openAvailable(stack, page, userId);
        assertThat(wouldAskToLeave(page)).as("no contact: closing needs no confirmation").isFalse();

        stack.connect().startContact(stack.instanceId(), userId);
        page.waitForSelector("body[data-contact='live']", new Page.WaitForSelectorOptions().setTimeout(Waits.PROMPT.toMillis()));
        assertThat(wouldAskToLeave(page)).as("a live call would be dropped").isTrue();

        stack.connect().endContact(stack.instanceId(), userId);
        page.waitForSelector("body[data-contact='none']", new Page.WaitForSelectorOptions().setTimeout(Waits.PROMPT.toMillis()));
        assertThat(wouldAskToLeave(page)).as("the contact ended: no listener left (bfcache-eligible)").isFalse();
        page.close();
        CcpPage.awaitBackstopOffline(stack, userId);
        assertThat(status(stack, userId)).isEqualTo("Offline");
        context.close();
    }

    @Test
    void productionPage_should_loadThePinnedStreamsAndEmbedTheCcp_andWaitForTheAgent() {
        BrowserContext context = browser.newContext();
        // The agent is signed in already (a valid ID token kept in the tab): the page goes straight on to Streams.
        context.addInitScript("sessionStorage.setItem('ccp-backstop.sign-in', JSON.stringify({ idToken: 'kept', "
                + "expiresAt: Date.now() + 3600000, loginHint: null }))");
        Page page = context.newPage();
        List<String> pageErrors = new CopyOnWriteArrayList<>();
        page.onPageError(pageErrors::add);
        String ccpUrl = stack.frontUrl() + "/ops.html?stand-in-for=ccp-v2";
        page.route("**/config.json", route -> route.fulfill(new com.microsoft.playwright.Route.FulfillOptions()
                .setContentType("application/json")
                .setBody("{\"mode\":\"production\",\"ccpUrl\":\"" + ccpUrl + "\",\"region\":\"eu-west-2\",\"apiBase\":\"\","
                        + "\"auth\":{\"issuer\":\"https://idp.example.com/oauth2/default\",\"clientId\":\"ccp\"}}")));
        long registersBefore = count("POST /sessions ");

        page.navigate(stack.frontUrl() + "/ccp.html");

        page.waitForFunction("() => typeof window.connect?.core?.initCCP === 'function'");
        // A JavaScript regex (Playwright matches in the page): the URL's own characters escaped, then anything after it.
        PlaywrightAssertions.assertThat(page.locator("#ccp-frame iframe")).hasAttribute("src",
                java.util.regex.Pattern.compile("^" + ccpUrl.replaceAll("[.?*+^$()\\[\\]{}|\\\\/]", "\\\\$0")));
        // No agent yet (the stand-in CCP never logs one in): the backstop waits and registers nothing.
        PlaywrightAssertions.assertThat(page.locator("body")).hasAttribute("data-backstop", "idle");
        assertThat(count("POST /sessions ")).isEqualTo(registersBefore);
        assertThat(pageErrors).isEmpty();
        context.close();
    }

    /** Every Content-Security-Policy violation the page reports, collected from its first script on. */
    static final String RECORD_VIOLATIONS = "window.__violations = [];"
            + " document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));";

    @Test
    void page_should_runUnderItsContentSecurityPolicy_withoutAViolation_andRefuseWhatItDoesNotName() {
        String userId = newAgent(stack);
        BrowserContext context = browser.newContext();
        context.addInitScript(RECORD_VIOLATIONS);
        Page page = context.newPage();
        com.microsoft.playwright.Response response = page.navigate(stack.frontUrl() + "/ccp.html?agent=" + userId);
        assertThat(response.headers().get("content-security-policy")).contains("connect-src 'self'", "frame-ancestors 'self'");
        page.waitForSelector("body[data-backstop='open']", new Page.WaitForSelectorOptions().setTimeout(Waits.PROMPT.toMillis()));

        // Sign-in, import map, modules, the heartbeat and tick workers, the emulator and the API: nothing refused.
        assertThat(page.evaluate("() => window.__violations")).asList().isEmpty();

        // An injected inline script does not run; a request to an origin the policy does not name is refused.
        page.evaluate("() => { const s = document.createElement('script'); s.textContent = 'window.__injected = true'; document.body.append(s); }");
        Object fetched = page.evaluate("() => fetch('http://127.0.0.1:9/steal').then(() => 'sent', () => 'refused')");
        assertThat(fetched).isEqualTo("refused");
        assertThat(page.evaluate("() => window.__injected === undefined")).isEqualTo(true);
        await().atMost(Waits.PROMPT).until(() -> String.valueOf(page.evaluate("() => window.__violations.join('|')"))
                .matches(".*script-src-elem inline.*") && String.valueOf(page.evaluate("() => window.__violations.join('|')")).contains("connect-src http://127.0.0.1:9"));
        context.close();
    }

    @Test
    void heartbeats_should_goOnFromThePage_when_theHeartbeatWorkerCannotLoad() {
        String userId = newAgent(stack);
        BrowserContext context = browser.newContext();
        Page page = context.newPage();
        page.route("**/heartbeat-worker.js", route -> route.fulfill(new com.microsoft.playwright.Route.FulfillOptions().setStatus(404)));
        CcpPage.openAvailable(stack, page, userId);
        long beatsBefore = count("/heartbeat 200");

        // The worker never ran, yet the session is kept alive: two beats within two periods and a margin.
        await("heartbeats from the page's timers").atMost(Duration.ofSeconds(2L * HEARTBEAT).plus(Waits.PROMPT))
                .until(() -> count("/heartbeat 200") >= beatsBefore + 2);
        PlaywrightAssertions.assertThat(page.locator("body")).hasAttribute("data-backstop", "open");
        page.close();
        CcpPage.awaitBackstopOffline(stack, userId);
        assertThat(status(stack, userId)).isEqualTo("Offline");
        context.close();
    }

    static long count(String fragment) {
        return stack.accessLog().stream().filter(line -> line.contains(fragment)).count();
    }
}

package backstop.local.browser;

import backstop.local.Waits;
import backstop.local.DemoInstance;
import backstop.local.LocalStack;
import backstop.local.connect.ConnectEmulator;
import backstop.local.connect.Quota;
import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.assertions.PlaywrightAssertions;
import com.microsoft.playwright.options.WaitForSelectorState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.connect.ConnectClient;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Real Chromium against the local stack: the agent closes the CCP tab and Connect reports them Offline. */
class CloseTabBrowserTest {
    static LocalStack stack;
    static Chromium chromium;
    static Browser browser;
    static ConnectClient connect;

    @BeforeAll
    static void start() throws Exception {
        stack = LocalStack.start(LocalStack.Options.forTests());
        stack.connect().setQuota(Quota.OFF);
        chromium = new Chromium();
        browser = chromium.launch();
        connect = ConnectClient.builder().endpointOverride(stack.connect().endpoint()).region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("testing", "testing")))
                .httpClient(UrlConnectionHttpClient.create()).build();
    }

    @AfterAll
    static void stop() {
        connect.close();
        browser.close();
        chromium.close();
        stack.close();
    }

    static String newAgent() {
        String userId = "browser-" + UUID.randomUUID();
        stack.connect().addAgent(stack.instanceId(), userId, userId, "Chromium", "Agent", "rp-sales", "Offline");
        return userId;
    }

    /** What Connect's GetCurrentUserData reports as the agent's status name, through the real SDK. */
    static String connectStatus(String userId) {
        return connect.getCurrentUserData(r -> r.instanceId(stack.instanceId()).filters(f -> f.agents(userId)))
                .userDataList().getFirst().status().statusName();
    }

    @Test
    void closingTheTab_should_setAgentOfflineInConnect_byTheBeacon() throws Exception {
        String userId = newAgent();
        List<String> consoleErrors = new ArrayList<>();
        BrowserContext context = browser.newContext();
        Page page = CcpPage.watched(context, consoleErrors);

        CcpPage.openAvailable(stack, page, userId);
        assertThat(connectStatus(userId)).isEqualTo("Available");
        page.waitForSelector("#status-name[data-type='routable']",
                new Page.WaitForSelectorOptions().setState(WaitForSelectorState.VISIBLE));
        Path screenshots = Path.of("target", "screenshots");
        Files.createDirectories(screenshots);
        page.screenshot(new Page.ScreenshotOptions().setPath(screenshots.resolve("ccp-available.png")).setFullPage(true));

        page.close(); // pagehide: the beacon goes out as the tab dies (and the seed recipe tries Streams first)

        // The backstop's own PutUserStatus, not only the seed recipe's best effort. How fast is a benchmark's
        // question (local/bin/bench close); here: the beacon did it, with the OFFLINE-type status.
        CcpPage.awaitBackstopOffline(stack, userId);
        assertThat(connectStatus(userId)).isEqualTo("Offline");
        await().atMost(Waits.PROMPT).untilAsserted(() ->
                assertThat(stack.events().events("Agent Set Offline", "userId", userId)).singleElement()
                        .satisfies(e -> assertThat(e.path("detail").path("reason").asText()).isEqualTo("tab-closed")));
        assertThat(stack.connect().calls(ConnectEmulator.PUT_USER_STATUS)).filteredOn(c -> userId.equals(c.userId()))
                .hasSize(1);
        assertThat(consoleErrors).isEmpty();
        context.close();
    }

    @Test
    void closingOneOfTwoTabs_should_keepAgentOnline_andClosingTheLast_should_setOffline() {
        String userId = newAgent();
        BrowserContext context = browser.newContext();
        Page first = context.newPage();
        CcpPage.openAvailable(stack, first, userId);
        Page second = context.newPage();
        second.navigate(stack.frontUrl() + "/ccp.html?agent=" + userId);
        second.waitForSelector("body[data-backstop='open']", new Page.WaitForSelectorOptions().setTimeout(Waits.PROMPT.toMillis()));

        long closesBefore = closesAnswered();
        first.close();
        // The close's answer is the decision (not-needed: another tab is open); wait for it, then check nothing moved.
        await().atMost(Waits.PROMPT).until(() -> closesAnswered() == closesBefore + 1);
        assertThat(connectStatus(userId)).as("the other tab is still open").isEqualTo("Available");
        assertThat(stack.connect().calls(ConnectEmulator.PUT_USER_STATUS)).filteredOn(c -> userId.equals(c.userId())).isEmpty();

        second.close();
        CcpPage.awaitBackstopOffline(stack, userId);
        assertThat(connectStatus(userId)).isEqualTo("Offline");
        assertThat(stack.connect().calls(ConnectEmulator.PUT_USER_STATUS)).filteredOn(c -> userId.equals(c.userId())).hasSize(1);
        context.close();
    }

    static long closesAnswered() {
        return stack.accessLog().stream().filter(line -> line.contains("/close 202")).count();
    }

    @Test
    void root_should_redirectToTheCcpPage_keepingTheAgent() {
        String userId = newAgent();
        BrowserContext context = browser.newContext();
        Page page = context.newPage();

        page.navigate(stack.frontUrl() + "/?agent=" + userId);

        PlaywrightAssertions.assertThat(page).hasURL(stack.frontUrl() + "/ccp.html?agent=" + userId);
        PlaywrightAssertions.assertThat(page.locator("body")).hasAttribute("data-backstop", "open");
        context.close();
    }

    @Test
    void page_should_listDemoAgents_when_noAgentIsGiven() {
        BrowserContext context = browser.newContext();
        Page page = context.newPage();
        page.navigate(stack.frontUrl() + "/ccp.html");

        PlaywrightAssertions.assertThat(page.locator("#picker:not([hidden]) li")).hasCount(DemoInstance.AGENTS.size());
        PlaywrightAssertions.assertThat(page.locator("#picker a").first()).hasAttribute("href", "?agent=demo-ada");
        context.close();
    }

    /**
     * One agent, two browsers (two Chromium contexts: no shared BroadcastChannel, as two profiles or devices):
     * closing either keeps the agent Available, with no PutUserStatus and no Offline from the closing page;
     * closing the second sets Offline. Both orders, since only the first-opened page learns of the other late.
     */
    @Test
    void twoBrowsers_should_keepTheAgentAvailable_untilTheLastCcpCloses_inEitherOrder() {
        for (boolean firstOpenedClosesFirst : new boolean[] {true, false}) {
            String userId = newAgent();
            List<String> errors = new ArrayList<>();
            BrowserContext one = browser.newContext();
            BrowserContext two = browser.newContext();
            Page first = CcpPage.watched(one, errors);
            CcpPage.openAvailable(stack, first, userId);
            Page second = CcpPage.watched(two, errors);
            second.navigate(stack.frontUrl() + "/ccp.html?agent=" + userId);
            second.waitForSelector("body[data-backstop='open'][data-other-sessions='1']",
                    new Page.WaitForSelectorOptions().setTimeout(Waits.PROMPT.toMillis()));
            PlaywrightAssertions.assertThat(second.locator("#backstop-state")).containsText("1 other CCP open");
            long closesBefore = stack.accessLog().stream().filter(l -> l.contains("/close 202")).count();
            long ccpChangesBefore = ccpStatusChanges(userId);

            Page closing = firstOpenedClosesFirst ? first : second;
            Page staying = firstOpenedClosesFirst ? second : first;
            closing.close();

            await("the close beacon answered").atMost(Waits.PROMPT).until(() ->
                    stack.accessLog().stream().filter(l -> l.contains("/close 202")).count() > closesBefore);
            assertThat(putUserStatusCalls(userId)).as("the server leaves the agent alone").isZero();
            assertThat(ccpStatusChanges(userId)).as("no Offline from the closing page either (Streams' recipe)").isEqualTo(ccpChangesBefore);
            assertThat(connectStatus(userId)).isEqualTo("Available");

            staying.close();
            CcpPage.awaitBackstopOffline(stack, userId);
            assertThat(connectStatus(userId)).isEqualTo("Offline");
            assertThat(errors).isEmpty();
            one.close();
            two.close();
        }
    }

    /** Status changes the agent's own CCP made (the simulated Streams' setState), as Connect saw them. */
    static long ccpStatusChanges(String userId) {
        return stack.connect().calls(ConnectEmulator.CCP_SET_STATE).stream().filter(c -> userId.equals(c.userId())).count();
    }

    static long putUserStatusCalls(String userId) {
        return stack.connect().calls(ConnectEmulator.PUT_USER_STATUS).stream().filter(c -> userId.equals(c.userId())).count();
    }
}

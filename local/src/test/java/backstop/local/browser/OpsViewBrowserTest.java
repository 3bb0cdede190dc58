package backstop.local.browser;

import backstop.local.DemoInstance;
import backstop.local.LocalStack;
import backstop.local.connect.Quota;
import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static com.microsoft.playwright.assertions.PlaywrightAssertions.assertThat;


/** The ops view in Chromium: every demo agent, their live session, and a tab close showing up as it happens. */
class OpsViewBrowserTest {
    static LocalStack stack;
    static Chromium chromium;
    static Browser browser;

    @BeforeAll
    static void start() throws Exception {
        stack = LocalStack.start(LocalStack.Options.forTests());
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

    @Test
    void opsView_should_showAgentsSessionsTransitionsAndEvents_live() throws Exception {
        BrowserContext context = browser.newContext();
        Page ops = context.newPage();
        List<String> errors = new ArrayList<>();
        ops.onPageError(errors::add);
        ops.navigate(stack.frontUrl() + "/ops");
        ops.waitForSelector("body[data-ops='ready']");
        assertThat(ops.locator("#agents tbody tr")).hasCount(DemoInstance.AGENTS.size());

        Page ccp = context.newPage();
        CcpPage.openAvailable(stack, ccp, "demo-grace");
        // Web-first: the view refreshes every second, and a refresh can show the new session before the
        // agent's Available status; wait for the row to say both, not for one and then read the other once.
        Locator grace = ops.locator("#agents tr[data-user-id='demo-grace']");
        assertThat(grace.locator("td.live")).hasCount(1);
        assertThat(grace).containsText("Available");

        ccp.close();
        assertThat(ops.locator("#events li").filter(new Locator.FilterOptions().setHasText("Agent Set Offline"))).hasCount(1);
        assertThat(ops.locator("#transitions td").filter(new Locator.FilterOptions().setHasText("tab-closed"))).hasCount(1);
        assertThat(grace).containsText("Offline");
        Path screenshots = Path.of("target", "screenshots");
        Files.createDirectories(screenshots);
        ops.screenshot(new Page.ScreenshotOptions().setPath(screenshots.resolve("ops-view.png")).setFullPage(true));
        org.assertj.core.api.Assertions.assertThat(errors).isEmpty();
        context.close();
    }
}

package backstop.local.browser;

import backstop.local.LocalStack;
import backstop.local.Waits;
import com.microsoft.playwright.Frame;
import com.microsoft.playwright.FrameLocator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.assertions.LocatorAssertions;
import com.microsoft.playwright.assertions.PlaywrightAssertions;
import com.microsoft.playwright.options.AriaRole;

import static org.awaitility.Awaitility.await;

/** The local Agent Workspace (web/local-workspace/host.html) and its ccp-backstop service iframe, as tests drive them. */
final class WorkspacePage {
    private WorkspacePage() {
    }

    /** Opens the workspace for {@code userId}; {@code query} adds to it (e.g. "&timeout=3000"). */
    static void open(LocalStack stack, Page page, String userId, String query) {
        page.navigate(stack.workspace().workspaceFor(userId) + query);
    }

    /** Opens the workspace, waits for the service's session, and makes the agent Available in the workspace. */
    static Page openProtectedAndAvailable(LocalStack stack, com.microsoft.playwright.BrowserContext context, String userId,
                                          java.util.List<String> errors) {
        Page page = CcpPage.watched(context, errors);
        open(stack, page, userId, "");
        PlaywrightAssertions.assertThat(page.locator("body")).hasAttribute("data-workspace", "started");
        PlaywrightAssertions.assertThat(service(page).locator("body")).hasAttribute("data-backstop", "open",
                new LocatorAssertions.HasAttributeOptions().setTimeout(Waits.PROMPT.toMillis()));
        page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Available")).click();
        await().atMost(Waits.PROMPT).until(() -> stack.connect().agentView(stack.instanceId(), userId).statusName().equals("Available"));
        // The service knows it too (what its close beacon will report).
        PlaywrightAssertions.assertThat(service(page).locator("body")).hasAttribute("data-status", "Available");
        return page;
    }

    static FrameLocator service(Page page) {
        return page.frameLocator("iframe[title='ccp-backstop service']");
    }

    /** The service iframe's frame, once it is there. */
    static Frame serviceFrame(Page page) {
        return await().atMost(Waits.PROMPT).until(() -> page.frames().stream()
                .filter(f -> f.url().contains("/workspace/service.html")).findFirst().orElse(null), f -> f != null);
    }

    /** The workspace's own measure: from adding the service iframe to the service's create completion. */
    static long startMillis(Page page) {
        return Long.parseLong(page.locator("body").getAttribute("data-start-ms"));
    }
}

package backstop.local.browser;

import backstop.local.LocalStack;
import backstop.local.Waits;
import com.microsoft.playwright.Frame;
import com.microsoft.playwright.FrameLocator;
import com.microsoft.playwright.Page;

import static org.awaitility.Awaitility.await;

/** The local Agent Workspace (web/local-workspace/host.html) and its ccp-backstop service iframe, as tests drive them. */
final class WorkspacePage {
    private WorkspacePage() {
    }

    /** Opens the workspace for {@code userId}; {@code query} adds to it (e.g. "&timeout=3000"). */
    static void open(LocalStack stack, Page page, String userId, String query) {
        page.navigate(stack.workspace().workspaceFor(userId) + query);
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

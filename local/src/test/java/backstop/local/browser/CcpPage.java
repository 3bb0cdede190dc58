package backstop.local.browser;

import backstop.local.Waits;
import backstop.local.LocalStack;
import backstop.local.connect.ConnectEmulator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.options.AriaRole;

import java.time.Duration;

import static org.awaitility.Awaitility.await;

/** The local CCP page as a test drives it. */
public final class CcpPage {
    private CcpPage() {
    }

    /** Waits for the backstop's own successful PutUserStatus for {@code userId} (the beacon's, not a Streams call). */
    public static void awaitBackstopOffline(LocalStack stack, String userId) {
        await().atMost(Waits.PROMPT).pollInterval(Duration.ofMillis(20)).until(() ->
                stack.connect().calls(ConnectEmulator.PUT_USER_STATUS).stream().anyMatch(c -> userId.equals(c.userId()) && c.ok()));
    }

    /** A new page of {@code context} that collects console errors and uncaught page errors into {@code errors}. */
    public static Page watched(com.microsoft.playwright.BrowserContext context, java.util.List<String> errors) {
        Page page = context.newPage();
        page.onConsoleMessage(m -> {
            if (m.type().equals("error")) {
                errors.add(m.text());
            }
        });
        page.onPageError(errors::add);
        return page;
    }

    /** Signs in as {@code userId}, waits for the backstop session, and makes the agent Available in Connect. */
    public static void openAvailable(LocalStack stack, Page page, String userId) {
        page.navigate(stack.frontUrl() + "/ccp.html?agent=" + userId);
        page.waitForSelector("body[data-backstop='open']", new Page.WaitForSelectorOptions().setTimeout(Waits.PROMPT.toMillis()));
        page.getByRole(AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Available")).click();
        await().atMost(Waits.PROMPT)
                .until(() -> stack.connect().agentView(stack.instanceId(), userId).statusName().equals("Available"));
    }
}

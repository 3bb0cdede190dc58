package backstop.local.browser;

import backstop.local.LocalStack;
import backstop.local.Waits;
import backstop.local.aws.AwsEmulation;
import backstop.local.aws.TemplateResources;
import backstop.local.connect.Quota;
import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Page;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * README "Hosting the page" as an operator follows it: {@code web/bin/upload-set} builds the folder that is
 * uploaded (S3 or any web server), with config.json beside ccp.html; that folder alone is served, from its own
 * origin, and the page runs from it in Chromium: every file it asks its origin for is there (the import map's
 * client modules and workers, oauth4webapi, Streams), the agent signs in, the session opens, and closing the tab
 * sets the agent Offline.
 */
class HostingRecipeBrowserTest {
    static LocalStack stack;
    static Chromium chromium;
    static Browser browser;
    static HttpServer host;
    static Path site;

    @BeforeAll
    static void start(@TempDir Path temp) throws Exception {
        Path web = TemplateResources.findTemplate().getParent().resolve("web");
        site = temp.resolve("site");
        PackagedClientBrowserTest.run(web, "bin/upload-set", site.toString());
        int port = AwsEmulation.freePort();
        stack = LocalStack.start(LocalStack.Options.forTests().withEnvironment(Map.of("ALLOWED_ORIGINS", "http://127.0.0.1:" + port)));
        stack.connect().setQuota(Quota.OFF);
        // Step 3's config.json: the API is the stack's (the local page's own config says '', its own origin).
        String config = stack.pageConfigJson().replace("\"apiBase\":\"\"", "\"apiBase\":\"" + stack.frontUrl() + "\"");
        assertThat(config).contains(stack.frontUrl().toString());
        Files.writeString(site.resolve("config.json"), config);
        host = PackagedClientBrowserTest.serve(site, port);
        chromium = new Chromium();
        browser = chromium.launch();
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.close();
            chromium.close();
        }
        if (stack != null) {
            stack.close();
        }
        if (host != null) {
            host.stop(0);
        }
    }

    @Test
    void uploadSet_should_holdEveryFileThePageLoads_andThePageProtectTheAgent() throws Exception {
        String origin = "http://127.0.0.1:" + host.getAddress().getPort();
        String userId = "hosted-" + UUID.randomUUID();
        stack.connect().addAgent(stack.instanceId(), userId, userId, "Hosted", "Agent", "rp-sales", "Available");
        List<String> errors = new ArrayList<>();
        List<String> missing = new CopyOnWriteArrayList<>();
        BrowserContext context = browser.newContext();
        Page page = CcpPage.watched(context, errors);
        page.onResponse(response -> {
            if (response.url().startsWith(origin) && response.status() >= 400) {
                missing.add(response.status() + " " + response.url());
            }
        });

        page.navigate(origin + "/ccp.html?agent=" + userId);
        try {
            page.waitForSelector("body[data-backstop='open']", new Page.WaitForSelectorOptions().setTimeout(Waits.PROMPT.toMillis()));
        } catch (com.microsoft.playwright.TimeoutError e) {
            throw new AssertionError("never open: page says '" + page.textContent("#backstop-state") + "' / '"
                    + page.textContent("#banner") + "' at " + page.url() + "; missing " + missing + "; errors " + errors, e);
        }
        assertThat(page.workers()).as("the heartbeat and tick workers, from the upload set").hasSize(2);
        // Production loads Streams from the page's origin (the local page runs the simulated Streams instead).
        HttpResponse<Void> streams = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(origin
                + "/node_modules/amazon-connect-streams/release/connect-streams-min.js")).build(), HttpResponse.BodyHandlers.discarding());
        assertThat(streams.statusCode()).isEqualTo(200);

        page.close();

        CcpPage.awaitBackstopOffline(stack, userId);
        assertThat(CcpPageBrowserTest.status(stack, userId)).isEqualTo("Offline");
        assertThat(missing).as("files the page asked its origin for").isEmpty();
        assertThat(errors).isEmpty();
        context.close();
    }
}

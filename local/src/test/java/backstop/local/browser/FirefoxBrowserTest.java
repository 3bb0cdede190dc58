package backstop.local.browser;

import backstop.local.LocalStack;
import backstop.local.aws.TemplateResources;
import backstop.local.connect.Quota;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The browser tier in Firefox ESR (Connect supports Chrome, Edge and Firefox): register, heartbeats from the
 * worker, the pagehide beacon setting the agent Offline, and the reload restore. puppeteer-core drives Debian's
 * firefox-esr over WebDriver BiDi from node (web/e2e/firefox-scenarios.mjs; nothing is downloaded); this test
 * starts the stack and the agents, runs the scenarios, and checks Connect's side itself. Why Firefox leaves the
 * page instead of closing the tab: see the script's header.
 */
class FirefoxBrowserTest {
    static final int HEARTBEAT = 5;
    static LocalStack stack;

    @BeforeAll
    static void start() throws Exception {
        stack = LocalStack.start(LocalStack.Options.forTests().withEnvironment(Map.of("HEARTBEAT_SECONDS", "" + HEARTBEAT)));
        stack.connect().setQuota(Quota.OFF);
    }

    @AfterAll
    static void stop() {
        stack.close();
    }

    @Test
    void firefox_should_register_beatFromTheWorker_setOfflineOnPagehide_andRestoreAfterAReload() throws Exception {
        String closing = CcpPageBrowserTest.newAgent(stack);
        String reloading = CcpPageBrowserTest.newAgent(stack);
        Path root = TemplateResources.findTemplate().getParent();

        Process node = new ProcessBuilder("node", "web/e2e/firefox-scenarios.mjs", stack.frontUrl().toString(), closing, reloading)
                .directory(root.toFile()).redirectErrorStream(true).start();
        String output;
        try {
            // Two scenarios, each bounded by the script's own 20 s waits, plus Firefox's start.
            boolean ended = node.waitFor(3, TimeUnit.MINUTES);
            if (!ended) {
                node.descendants().forEach(ProcessHandle::destroyForcibly);
                node.destroyForcibly();
            }
            output = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(ended).as("the Firefox scenarios ended:%n%s", output).isTrue();
        } finally {
            node.descendants().forEach(ProcessHandle::destroyForcibly);
            node.destroyForcibly();
        }
        System.out.println("Firefox scenarios:\n" + output.strip());

        assertThat(node.exitValue()).as(output).isZero();
        List<String> lines = output.lines().filter(l -> l.startsWith("{")).toList();
        assertThat(lines).anyMatch(l -> l.contains("\"scenario\":\"close\"") && l.contains("\"ok\":true") && l.contains("firefox/"));
        assertThat(lines).anyMatch(l -> l.contains("\"scenario\":\"reload-restore\"") && l.contains("\"ok\":true"));

        // Connect's side, seen from here: the beacon's own PutUserStatus set the first agent Offline, the worker's
        // heartbeats reached the API, and the second agent is back in the status they had.
        assertThat(CcpPageBrowserTest.status(stack, closing)).isEqualTo("Offline");
        assertThat(CcpPageBrowserTest.puts(stack, closing)).isEqualTo(1);
        assertThat(stack.accessLog()).anyMatch(l -> l.contains("/heartbeat 200"));
        // The reload's close set Offline and the new page restored Available (the script saw it in Connect). What
        // happens after the script (Firefox's own close may or may not fire pagehide) is not this test's question.
        assertThat(CcpPageBrowserTest.puts(stack, reloading)).as("the reload's close beacon set Offline").isGreaterThanOrEqualTo(1);
        String reloadingArn = stack.config().connectInstance().arn() + "/agent/" + reloading;
        assertThat(stack.events().events("Agent Status Restored", "agentArn", reloadingArn)).hasSize(1);
    }
}

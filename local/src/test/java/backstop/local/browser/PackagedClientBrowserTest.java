package backstop.local.browser;

import backstop.local.LocalStack;
import backstop.local.Waits;
import backstop.local.aws.TemplateResources;
import backstop.local.connect.Quota;
import backstop.local.identity.Tokens;
import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Page;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What users install is what is tested: `npm pack` of web/client, installed from the tarball into a host page in
 * a temp folder (nothing from the repo's sources), served from its own origin; the host wires the package with
 * its README integration (createBackstop with an adapter, the API's URL and the agent's token) over a ten-line
 * adapter of its own against the Connect emulator. Chromium closes the tab; Connect says Offline.
 */
class PackagedClientBrowserTest {
    static LocalStack stack;
    static Chromium chromium;
    static Browser browser;
    static HttpServer host;
    static Path hostRoot;
    static long tarballBytes;

    @BeforeAll
    static void start(@TempDir Path temp) throws Exception {
        Path client = TemplateResources.findTemplate().getParent().resolve("web/client");
        run(client, "npm", "pack", "--silent", "--pack-destination", temp.toString());
        Path tarball;
        try (var found = Files.list(temp)) {
            tarball = found.filter(p -> p.getFileName().toString().endsWith(".tgz")).findFirst().orElseThrow();
        }
        tarballBytes = Files.size(tarball);
        hostRoot = Files.createDirectories(temp.resolve("host"));
        Files.writeString(hostRoot.resolve("package.json"), "{\"name\":\"some-custom-ccp\",\"private\":true,\"type\":\"module\"}");
        run(hostRoot, "npm", "install", tarball.toString(), "--no-audit", "--no-fund", "--ignore-scripts", "--prefer-offline", "--loglevel=error");

        int hostPort;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            hostPort = probe.getLocalPort();
        }
        host = serve(hostRoot, hostPort);
        stack = LocalStack.start(LocalStack.Options.forTests().withEnvironment(Map.of(
                "ALLOWED_ORIGINS", "http://127.0.0.1:" + hostPort)));
        stack.connect().setQuota(Quota.OFF);
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
    void installedTarball_should_protectAHostCcp_closingItsTabSetsTheAgentOffline() throws Exception {
        assertThat(hostRoot.resolve("node_modules/@ccp-backstop/client/index.d.ts")).exists();
        assertThat(hostRoot.resolve("node_modules/@ccp-backstop/client/test")).doesNotExist();
        System.out.printf("@ccp-backstop/client tarball: %d bytes%n", tarballBytes);
        String userId = "host-" + java.util.UUID.randomUUID();
        stack.connect().addAgent(stack.instanceId(), userId, userId, "Host", "Agent", "rp-sales", "Available");
        String token = Tokens.forAgentsOf(stack).apply(userId);
        Files.writeString(hostRoot.resolve("index.html"), hostPage(userId, token));

        List<String> errors = new ArrayList<>();
        BrowserContext context = browser.newContext();
        Page page = CcpPage.watched(context, errors);
        page.navigate(host.getAddress().toString().replace("/127.0.0.1", "http://127.0.0.1") + "/index.html");
        page.waitForFunction("() => window.backstopState === 'open'", null,
                new Page.WaitForFunctionOptions().setTimeout(Waits.PROMPT.toMillis()));
        assertThat(CcpPageBrowserTest.status(stack, userId)).isEqualTo("Available");

        page.close();

        CcpPage.awaitBackstopOffline(stack, userId);
        assertThat(CcpPageBrowserTest.status(stack, userId)).isEqualTo("Offline");
        assertThat(errors).isEmpty();
        context.close();
    }

    /** A custom CCP as a user would write it: an import map to the installed package, its own Streams stand-in. */
    static String hostPage(String userId, String token) {
        String emulator = stack.connect().endpoint().toString();
        String base = emulator + "/_emulator/instances/" + stack.instanceId();
        String arn = stack.config().connectInstance().arn();
        return """
                <!doctype html><html><head><meta charset="utf-8"><title>Some custom CCP</title><link rel="icon" href="data:,">
                <script type="importmap">{"imports":{"@ccp-backstop/client":"./node_modules/@ccp-backstop/client/index.js"}}</script>
                </head><body><script type="module">
                import { createBackstop } from '@ccp-backstop/client';
                const base = '%s', userId = '%s';
                const view = await fetch(`${base}/agents/${userId}`).then((r) => r.json());
                const adapter = {
                  onAgent(listener) { listener(); },
                  agentArn: () => '%s/agent/' + userId,
                  currentStatus: () => ({ name: view.statusName, arn: '%s/agent-state/' + view.statusId, type: view.statusType.toLowerCase() }),
                };
                createBackstop({ adapter, apiBase: '%s', getToken: async () => '%s',
                  onChange: (state) => { window.backstopState = state; } });
                </script></body></html>
                """.formatted(base, userId, arn, arn, stack.frontUrl(), token);
    }

    static HttpServer serve(Path root, int port) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 16);
        server.createContext("/", exchange -> {
            try (exchange) {
                Path file = root.resolve(exchange.getRequestURI().getPath().substring(1)).normalize();
                if (!file.startsWith(root) || !Files.isRegularFile(file)) {
                    exchange.sendResponseHeaders(404, -1);
                    return;
                }
                byte[] body = Files.readAllBytes(file);
                String name = file.getFileName().toString();
                exchange.getResponseHeaders().set("Content-Type", name.endsWith(".html") ? "text/html; charset=utf-8"
                        : name.endsWith(".js") ? "text/javascript; charset=utf-8" : name.endsWith(".css") ? "text/css; charset=utf-8"
                        : name.endsWith(".json") ? "application/json" : "application/octet-stream");
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            }
        });
        server.start();
        return server;
    }

    static void run(Path directory, String... command) throws Exception {
        Process process = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true).start();
        boolean ended = process.waitFor(2, TimeUnit.MINUTES);
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!ended) {
            process.destroyForcibly();
        }
        assertThat(ended && process.exitValue() == 0).as("%s: %s", String.join(" ", command), output).isTrue();
    }
}

package backstop.local.workspace;

import backstop.core.json.Json;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The local stand-in for Connect's Agent Workspace (web/local-workspace/host.js), on its own port and reached as
 * {@code http://localhost:<port>}: another site than the service's {@code http://127.0.0.1:<front>}, so the service
 * iframe is cross-site (its own renderer process, partitioned storage, third-party cookie rules) as it is under
 * {@code *.my.connect.aws}. Serves the host page and {@code /host-config.json} (where the service and the Connect
 * emulator are); nothing else.
 */
public final class LocalWorkspaceHost implements AutoCloseable {
    /** The workspace's start timeout for the service when the page names none (?timeout=ms). */
    public static final int INITIALIZATION_TIMEOUT_MS = 5_000;
    /** How often the host health-checks the service (the SDK marks the connection unhealthy after 3 missed). */
    public static final int HEALTH_CHECK_INTERVAL_MS = 10_000;
    private static final Map<String, String> TYPES = Map.of("html", "text/html; charset=utf-8", "js", "text/javascript; charset=utf-8",
            "css", "text/css; charset=utf-8");

    /** Where the service is and what the host answers its agent requests from. */
    public record Settings(URI serviceUrl, URI emulator, String instanceId, String instanceArn, String region) {
    }

    private final HttpServer server;
    private final ExecutorService executor;
    private final Path pages;
    private final Settings settings;

    private LocalWorkspaceHost(HttpServer server, ExecutorService executor, Path pages, Settings settings) {
        this.server = server;
        this.executor = executor;
        this.pages = pages;
        this.settings = settings;
    }

    /** Starts on 127.0.0.1:{@code port} (0: a free one), serving {@code web/local-workspace}. */
    public static LocalWorkspaceHost start(int port, Path webRoot, Settings settings) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 64);
        ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
        LocalWorkspaceHost host = new LocalWorkspaceHost(server, executor, webRoot.resolve("local-workspace").toAbsolutePath().normalize(), settings);
        server.createContext("/", host::handle);
        server.setExecutor(executor);
        server.start();
        return host;
    }

    /** The host's origin: {@code localhost}, so that it is another site than the service on 127.0.0.1. */
    public URI url() {
        return URI.create("http://localhost:" + server.getAddress().getPort());
    }

    /** The workspace page for {@code userId}. */
    public URI workspaceFor(String userId) {
        return url().resolve("/host.html?agent=" + userId);
    }

    public String origin() {
        return url().toString();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            if (!exchange.getRequestMethod().equals("GET")) {
                send(exchange, 405, "text/plain; charset=utf-8", new byte[0]);
            } else if (path.equals("/host-config.json")) {
                send(exchange, 200, "application/json", config().getBytes(StandardCharsets.UTF_8));
            } else {
                Path file = pages.resolve(path.equals("/") ? "host.html" : path.substring(1)).normalize();
                if (!file.startsWith(pages) || !Files.isRegularFile(file)) {
                    send(exchange, 404, "text/plain; charset=utf-8", "not found".getBytes(StandardCharsets.UTF_8));
                    return;
                }
                String name = file.getFileName().toString();
                exchange.getResponseHeaders().set("Content-Security-Policy", "default-src 'self'; connect-src 'self' "
                        + origin(settings.emulator()) + "; frame-src " + origin(settings.serviceUrl()) + "; img-src 'self' data:");
                send(exchange, 200, TYPES.getOrDefault(name.substring(name.lastIndexOf('.') + 1), "application/octet-stream"), Files.readAllBytes(file));
            }
        }
    }

    private String config() {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("serviceUrl", settings.serviceUrl().toString());
        config.put("emulatorBase", settings.emulator().toString());
        config.put("instanceId", settings.instanceId());
        config.put("instanceArn", settings.instanceArn());
        config.put("region", settings.region());
        config.put("namespace", "ccp-backstop");
        config.put("applicationArn", settings.instanceArn().replace(":connect:", ":app-integrations:").replaceAll("instance/.*", "application/local"));
        config.put("initializationTimeoutMs", INITIALIZATION_TIMEOUT_MS);
        config.put("healthCheckIntervalMs", HEALTH_CHECK_INTERVAL_MS);
        return Json.write(config);
    }

    static String origin(URI uri) {
        return uri.getScheme() + "://" + uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort());
    }

    private static void send(HttpExchange exchange, int status, String type, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.getResponseHeaders().set("Cache-Control", "no-cache");
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}

package backstop.local.browser;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;

/**
 * Chromium with a real window on an Xvfb display, driven over the DevTools protocol directly. Headless Chromium
 * never hides a page, and Playwright emulates focus on the pages it drives, which keeps a background tab
 * "visible"; a plain headful browser whose tab is switched with /json/new hides and throttles the background tab
 * as a user's Chrome does (background timer throttling, renderer backgrounding: Chromium's defaults).
 */
final class HeadfulChromium implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Process process;
    private final Path profile;
    private final int port;
    private final HttpClient http = HttpClient.newHttpClient();

    private HeadfulChromium(Process process, Path profile, int port) {
        this.process = process;
        this.profile = profile;
        this.port = port;
    }

    static HeadfulChromium start(String display, URI firstPage, int port) throws IOException {
        Path profile = Files.createTempDirectory("backstop-headful-");
        List<String> command = Stream.concat(Stream.of(Chromium.EXECUTABLE.toString()),
                Stream.concat(Chromium.ARGS.stream().filter(arg -> !arg.equals("--headless")),
                        Stream.of("--user-data-dir=" + profile, "--remote-debugging-address=127.0.0.1",
                                "--remote-debugging-port=" + port, firstPage.toString()))).toList();
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        builder.environment().putAll(Map.of("DISPLAY", display, "TMPDIR", profile.toString(), "HOME", profile.toString()));
        HeadfulChromium chromium = new HeadfulChromium(builder.start(), profile, port);
        await().atMost(Duration.ofSeconds(15)).ignoreExceptions().until(() -> chromium.tab(firstPage.toString()) != null);
        return chromium;
    }

    /** The DevTools target of the first page whose URL starts with {@code url}, or null. */
    JsonNode tab(String url) throws IOException, InterruptedException {
        for (JsonNode target : JSON.readTree(get("/json/list"))) {
            if (target.path("type").asText().equals("page") && target.path("url").asText().startsWith(url)) {
                return target;
            }
        }
        return null;
    }

    /** Opens {@code url} in a new foreground tab of the same window: the other tabs go to the background. */
    void openForegroundTab(URI url) throws IOException, InterruptedException {
        http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/new?" + url))
                .PUT(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Evaluates {@code expression} in the tab and returns its value (Runtime.evaluate over the tab's socket). */
    JsonNode evaluate(JsonNode tab, String expression) throws Exception {
        CompletableFuture<String> answer = new CompletableFuture<>();
        StringBuilder buffer = new StringBuilder();
        WebSocket socket = http.newWebSocketBuilder().buildAsync(URI.create(tab.path("webSocketDebuggerUrl").asText()),
                new WebSocket.Listener() {
                    @Override
                    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                        buffer.append(data);
                        if (last) {
                            answer.complete(buffer.toString());
                        }
                        webSocket.request(1);
                        return null;
                    }
                }).get(5, TimeUnit.SECONDS);
        try {
            String request = JSON.writeValueAsString(Map.of("id", 1, "method", "Runtime.evaluate",
                    "params", Map.of("expression", expression, "returnByValue", true)));
            socket.sendText(request, true).get(5, TimeUnit.SECONDS);
            return JSON.readTree(answer.get(10, TimeUnit.SECONDS)).path("result").path("result").path("value");
        } finally {
            socket.abort();
        }
    }

    private String get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    @Override
    public void close() throws IOException, InterruptedException {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
        try (Stream<Path> files = Files.walk(profile)) {
            files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        }
    }
}

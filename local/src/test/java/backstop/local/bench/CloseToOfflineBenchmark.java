package backstop.local.bench;

import backstop.local.LocalFront;
import backstop.local.LocalStack;
import backstop.local.browser.CcpPage;
import backstop.local.browser.Chromium;
import backstop.local.connect.AgentStatusType;
import backstop.local.connect.ConnectCall;
import backstop.local.connect.ConnectEmulator;
import backstop.local.connect.Quota;
import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Route;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.awaitility.Awaitility.await;

/**
 * Not part of the test run (it measures, it does not judge): time from Playwright's page.close() to the agent
 * set Offline, through real Chromium, for the local stack and, in the same run, for the floor: a trivial server
 * that answers the page's register and heartbeats and flips the agent Offline in the emulator the moment the
 * close beacon lands. With a baseline (an earlier commit's whole local stack, started apart by local/bin/bench from
 * a scratch worktree: {@code -Dbaseline.front=<its front URL> -Dbaseline.connect=<its emulator URL>
 * -Dbaseline.name=<commit>}), its closes run in the same rounds through the same browser. Runs alternate; two
 * warm-up closes of each are not counted. For the stack it also splits each close at the beacon's arrival at the
 * front: the browser's part (close() to the beacon on the server) and the server's (beacon to PutUserStatus).
 * <pre>BENCH_BASELINE=2751c46 local/bin/bench close   (or: local/bin/test -pl local -Dtest=CloseToOfflineBenchmark -Dbench=true -Druns=50)</pre>
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class CloseToOfflineBenchmark {

    @Test
    void measure() throws Exception {
        int runs = Integer.getInteger("runs", 50);
        try (LocalStack stack = LocalStack.start(LocalStack.Options.forTests()); Chromium chromium = new Chromium();
             FloorServer floor = new FloorServer(stack)) {
            stack.connect().setQuota(Quota.OFF);
            Browser browser = chromium.launch();
            Baseline baseline = Baseline.fromProperties();
            List<Double> stackMillis = new ArrayList<>();
            List<Double> browserMillis = new ArrayList<>();
            List<Double> floorMillis = new ArrayList<>();
            List<Double> baselineMillis = new ArrayList<>();
            for (int i = 0; i < runs + 2; i++) {
                Instant before = Instant.now();
                double viaStack = closeOnce(stack, browser, null);
                double toFront = beaconArrival(stack, before);
                double viaFloor = closeOnce(stack, browser, floor);
                double viaBaseline = baseline == null ? 0 : baseline.closeOnce(browser);
                if (i >= 2) { // warm-up: class loading and JIT on both sides
                    stackMillis.add(viaStack);
                    browserMillis.add(toFront);
                    floorMillis.add(viaFloor);
                    baselineMillis.add(viaBaseline);
                }
            }
            browser.close();
            report("stack", stackMillis);
            report("stack, close() to the beacon at the front", browserMillis);
            report("floor", floorMillis);
            List<Double> s = stackMillis.stream().sorted().toList();
            List<Double> f = floorMillis.stream().sorted().toList();
            System.out.printf("close-to-offline stack over floor: p50 +%.1f ms (budget 50), p99 +%.1f ms (budget 150)%n",
                    percentile(s, 50) - percentile(f, 50), percentile(s, 99) - percentile(f, 99));
            if (baseline != null) {
                report("baseline " + baseline.name, baselineMillis);
                List<Double> b = baselineMillis.stream().sorted().toList();
                List<Double> paired = new ArrayList<>();
                for (int i = 0; i < stackMillis.size(); i++) {
                    paired.add(stackMillis.get(i) - baselineMillis.get(i));
                }
                System.out.printf("close-to-offline stack vs baseline %s: p50 %.1f vs %.1f ms, paired median difference %+.1f ms "
                        + "(done when <= 0: no slower than %s)%n", baseline.name, percentile(s, 50), percentile(b, 50),
                        percentile(paired.stream().sorted().toList(), 50), baseline.name);
            }
        }
    }

    /** The time from this run's page.close() to the first close beacon the front took after {@code opened} (this run's start). */
    static double beaconArrival(LocalStack stack, Instant opened) {
        // The front logs a request once it answered it, just after the PutUserStatus this run waited for.
        Instant[] arrived = new Instant[1];
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(5)).until(() -> {
            stack.accessEntries().stream().filter(e -> e.arrived().isAfter(opened) && e.line().contains("/close "))
                    .map(LocalFront.AccessEntry::arrived).findFirst().ifPresent(at -> arrived[0] = at);
            return arrived[0] != null;
        });
        return Duration.between(lastClosing, arrived[0]).toNanos() / 1e6;
    }

    /** When the last run called page.close(). */
    static volatile Instant lastClosing;

    /** One agent, one tab: open, go Available, close; the time from page.close() to the agent's Offline. */
    static double closeOnce(LocalStack stack, Browser browser, FloorServer floor) {
        String userId = "bench-" + UUID.randomUUID();
        stack.connect().addAgent(stack.instanceId(), userId, userId, "Bench", "Agent", "rp-sales", "Offline");
        // The floor's page talks to the floor's API, an origin its Content-Security-Policy does not name: that run
        // sets the policy aside (rewriting the header through a route would make Chromium treat the page as public
        // and refuse its loopback requests). The stack's runs keep the policy; its checks cost no measurable time.
        BrowserContext context = browser.newContext(new Browser.NewContextOptions().setBypassCSP(floor != null));
        Page page = context.newPage();
        if (floor != null) {
            String config = stack.pageConfigJson().replace("\"apiBase\":\"\"", "\"apiBase\":\"" + floor.url() + "\"");
            page.route("**/config.json", route -> route.fulfill(new Route.FulfillOptions().setContentType("application/json").setBody(config)));
        }
        CcpPage.openAvailable(stack, page, userId);
        Instant closing = Instant.now();
        lastClosing = closing;
        page.close();
        Instant offline;
        if (floor == null) {
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(2)).until(() ->
                    stack.connect().calls(ConnectEmulator.PUT_USER_STATUS).stream().anyMatch(c -> userId.equals(c.userId()) && c.ok()));
            offline = stack.connect().calls(ConnectEmulator.PUT_USER_STATUS).stream()
                    .filter(c -> userId.equals(c.userId())).map(ConnectCall::at).findFirst().orElseThrow();
        } else {
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(2)).until(() -> floor.flipped(userId) != null);
            offline = floor.flipped(userId);
        }
        context.close();
        return Duration.between(closing, offline).toNanos() / 1e6;
    }

    static void report(String name, List<Double> millis) {
        List<Double> sorted = millis.stream().sorted().toList();
        System.out.printf("close-to-offline %s over %d runs: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, min %.1f ms, max %.1f ms%n",
                name, sorted.size(), percentile(sorted, 50), percentile(sorted, 90), percentile(sorted, 99),
                sorted.getFirst(), sorted.getLast());
    }

    static double percentile(List<Double> sorted, int p) {
        int index = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
    }

    /**
     * An earlier commit's local stack, running apart (local/bin/bench starts it from a scratch worktree), driven
     * over its emulator's admin API: add an agent, read its status and the PutUserStatus calls.
     */
    record Baseline(String name, String front, String connect, String instanceId, java.net.http.HttpClient http) {
        static Baseline fromProperties() {
            String front = System.getProperty("baseline.front");
            if (front == null || front.isBlank()) {
                return null;
            }
            return new Baseline(System.getProperty("baseline.name", "baseline"), front, System.getProperty("baseline.connect"),
                    System.getProperty("baseline.instance", backstop.local.DemoInstance.DEFAULT_INSTANCE_ID),
                    java.net.http.HttpClient.newHttpClient());
        }

        double closeOnce(Browser browser) throws Exception {
            String userId = "bench-" + UUID.randomUUID();
            String agents = connect + "/_emulator/instances/" + instanceId + "/agents";
            send("POST", agents, "{\"userId\":\"" + userId + "\",\"username\":\"" + userId
                    + "\",\"firstName\":\"Bench\",\"lastName\":\"Agent\",\"routingProfileId\":\"rp-sales\",\"status\":\"Offline\"}");
            BrowserContext context = browser.newContext();
            Page page = context.newPage();
            page.navigate(front + "/ccp.html?agent=" + userId);
            page.waitForSelector("body[data-backstop='open']", new Page.WaitForSelectorOptions().setTimeout(20_000));
            page.getByRole(com.microsoft.playwright.options.AriaRole.BUTTON, new Page.GetByRoleOptions().setName("Available")).click();
            await().atMost(Duration.ofSeconds(20)).until(() -> send("GET", agents + "/" + userId, null).contains("\"statusName\":\"Available\""));
            Instant closing = Instant.now();
            page.close();
            Pattern offline = Pattern.compile("\\{[^}]*\"userId\":\"" + Pattern.quote(userId) + "\"[^}]*\"at\":(\\d+),\"httpStatus\":200");
            String[] at = new String[1];
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(2)).until(() -> {
                Matcher m = offline.matcher(send("GET", connect + "/_emulator/calls?operation=PutUserStatus", null));
                if (m.find()) {
                    at[0] = m.group(1);
                }
                return at[0] != null;
            });
            context.close();
            return Long.parseLong(at[0]) - closing.toEpochMilli();
        }

        private String send(String method, String url, String body) throws Exception {
            var request = java.net.http.HttpRequest.newBuilder(java.net.URI.create(url)).header("Content-Type", "application/json")
                    .method(method, body == null ? java.net.http.HttpRequest.BodyPublishers.noBody() : java.net.http.HttpRequest.BodyPublishers.ofString(body));
            return http.send(request.build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        }
    }

    /** The floor: the least a server can do, with the page's API on loopback and CORS open. */
    static final class FloorServer implements AutoCloseable {
        private static final Pattern AGENT = Pattern.compile("/agent/([^\"]+)\"");
        private final HttpServer server;
        private final LocalStack stack;
        private final String offlineId;
        private final Map<String, String> agentBySession = new ConcurrentHashMap<>();
        private final Map<String, Instant> flipped = new ConcurrentHashMap<>();

        FloorServer(LocalStack stack) throws IOException {
            this.stack = stack;
            this.offlineId = stack.connect().statusId(stack.instanceId(), AgentStatusType.OFFLINE);
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            server.createContext("/", this::handle);
            server.setExecutor(java.util.concurrent.Executors.newFixedThreadPool(4));
            server.start();
        }

        String url() {
            return "http://127.0.0.1:" + server.getAddress().getPort();
        }

        Instant flipped(String userId) {
            return flipped.get(userId);
        }

        private void handle(HttpExchange exchange) throws IOException {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            String path = exchange.getRequestURI().getPath();
            exchange.getResponseHeaders().set("Access-Control-Allow-Origin", "*");
            exchange.getResponseHeaders().set("Access-Control-Allow-Headers", "authorization,content-type");
            if (exchange.getRequestMethod().equals("OPTIONS")) {
                send(exchange, 204, "");
            } else if (path.equals("/sessions")) {
                Matcher agent = AGENT.matcher(body);
                String sessionId = UUID.randomUUID().toString().replace("-", "").substring(0, 22);
                agentBySession.put(sessionId, agent.find() ? agent.group(1) : "");
                send(exchange, 201, "{\"sessionId\":\"" + sessionId + "\",\"token\":\"" + "t".repeat(43)
                        + "\",\"heartbeatSeconds\":20,\"staleAfterSeconds\":75,\"restore\":null}");
            } else if (path.endsWith("/close")) {
                String userId = agentBySession.get(path.split("/")[2]);
                stack.connect().setStatusFromCcp(stack.instanceId(), userId, offlineId);
                flipped.putIfAbsent(userId, Instant.now());
                send(exchange, 202, "{\"offline\":\"done\"}");
            } else {
                send(exchange, 200, "{\"otherSessions\":0}");
            }
        }

        private static void send(HttpExchange exchange, int status, String body) throws IOException {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(status, status == 204 ? -1 : bytes.length);
            if (status != 204) {
                exchange.getResponseBody().write(bytes);
            }
            exchange.close();
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }
}

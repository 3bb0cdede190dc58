package backstop.local;

import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import backstop.local.identity.JwtAuthorizer;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The local stand-in for API Gateway and the page's web host: real HTTP in, an HTTP API payload 2.0 event
 * handed to the same handler class Lambda runs, its response written back; CORS answered as the template's
 * x-amazon-apigateway-cors would; {@code web/} served as static files; {@code /config.json} tells the page where
 * things are.
 */
public final class LocalFront implements AutoCloseable {
    /** API Gateway's own payload cap for HTTP APIs is 10 MB; the handler enforces the 4 KiB contract. */
    private static final int MAX_PAYLOAD = 10 * 1024 * 1024;
    private static final List<Route> ROUTES = List.of(
            // As template.yaml: the JWT authorizer on register only; heartbeat and close carry the session token.
            new Route("POST", Pattern.compile("/sessions"), "POST /sessions", true),
            new Route("POST", Pattern.compile("/sessions/([^/]+)/heartbeat"), "POST /sessions/{sessionId}/heartbeat", false),
            new Route("POST", Pattern.compile("/sessions/([^/]+)/close"), "POST /sessions/{sessionId}/close", false));
    private static final Map<String, String> CONTENT_TYPES = Map.of("html", "text/html; charset=utf-8",
            "js", "text/javascript; charset=utf-8", "css", "text/css; charset=utf-8", "json", "application/json",
            "svg", "image/svg+xml", "png", "image/png", "ico", "image/x-icon");

    private record Route(String method, Pattern path, String routeKey, boolean jwtAuthorizer) {}

    private final HttpServer server;
    private final ExecutorService executor;
    private final RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> beacon;
    private final Path webRoot;
    private final List<String> allowedOrigins;
    private final Supplier<String> pageConfig;
    private final Supplier<String> opsState;
    private final JwtAuthorizer authorizer;
    /** The pages' deployment-specific Content-Security-Policy header, by page path (the HTML's meta tag names the rest). */
    private final java.util.function.Function<String, String> pagePolicy;
    /** API Gateway's route throttle: one token bucket per route, shared by every caller (null: none). */
    private volatile java.util.function.Supplier<backstop.core.connect.TokenBucket> bucketFactory;
    private final Map<String, backstop.core.connect.TokenBucket> buckets = new java.util.concurrent.ConcurrentHashMap<>();
    /** Routes made to fail (route key -> status), as a broken path between the agents and the API would. */
    private final Map<String, Integer> failing = new java.util.concurrent.ConcurrentHashMap<>();
    /** What the API routes answered, in order ("POST /sessions/{id}/close 403 origin=..."): the local access log. */
    private final java.util.List<AccessEntry> accessLog = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** One answered API request: when it arrived and its access-log line. */
    public record AccessEntry(java.time.Instant arrived, String line) {
    }

    private LocalFront(HttpServer server, ExecutorService executor,
                       RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> beacon, Path webRoot,
                       List<String> allowedOrigins, Supplier<String> pageConfig, Supplier<String> opsState,
                       JwtAuthorizer authorizer, java.util.function.Function<String, String> pagePolicy) {
        this.server = server;
        this.pagePolicy = pagePolicy;
        this.authorizer = authorizer;
        this.opsState = opsState;
        this.executor = executor;
        this.beacon = beacon;
        this.webRoot = webRoot.toAbsolutePath().normalize();
        this.allowedOrigins = allowedOrigins;
        this.pageConfig = pageConfig;
    }

    public static LocalFront start(int port, RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> beacon,
                                   Path webRoot, List<String> allowedOrigins, Supplier<String> pageConfig,
                                   Supplier<String> opsState, JwtAuthorizer authorizer, java.util.function.Function<String, String> pagePolicy) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 512);
        ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
        LocalFront front = new LocalFront(server, executor, beacon, webRoot, allowedOrigins, pageConfig, opsState, authorizer, pagePolicy);
        server.createContext("/", front::handle);
        server.setExecutor(executor);
        server.start();
        return front;
    }

    /**
     * Makes every request on {@code routeKey} (e.g. {@code POST /sessions/{sessionId}/heartbeat}) answer
     * {@code status} with API Gateway's body before it reaches the function, as a failing API, a bad minute of the
     * Region's network or a proxy in the way would; 0 clears it. Drills use it.
     */
    public void failRoute(String routeKey, int status) {
        if (status == 0) {
            failing.remove(routeKey);
        } else {
            failing.put(routeKey, status);
        }
    }

    /**
     * Throttles every route as API Gateway's stage route settings do (template.yaml, DefaultRouteSettings): a token
     * bucket per route for all callers together, {@code rate} a second and {@code burst} deep; past it a request is
     * answered 429 {@code {"message":"Too Many Requests"}} before it reaches the function.
     */
    public void throttle(double rate, int burst) {
        throttle(rate, burst, System::nanoTime);
    }

    /** As {@link #throttle(double, int)}, the buckets refilled on {@code nanoTime} (a benchmark's moved clock). */
    public void throttle(double rate, int burst, java.util.function.LongSupplier nanoTime) {
        buckets.clear();
        bucketFactory = () -> new backstop.core.connect.TokenBucket(rate, burst, nanoTime);
    }

    /** The API requests answered so far, oldest first (method, path, status, Origin; never bodies). */
    public java.util.List<String> accessLog() {
        return accessLog.stream().map(AccessEntry::line).toList();
    }

    /** As {@link #accessLog()}, with each request's arrival time (heartbeat cadence, latencies). */
    public java.util.List<AccessEntry> accessEntries() {
        return java.util.List.copyOf(accessLog);
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public URI url() {
        return URI.create("http://127.0.0.1:" + port());
    }

    @Override
    public void close() {
        server.stop(1); // lets requests in flight (a close beacon publishing its event) finish
        executor.shutdown();
        try {
            if (!executor.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS)) {
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            executor.shutdownNow();
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            route(exchange);
        } catch (RuntimeException e) {
            // The JDK server would drop the connection silently; say what broke instead.
            org.slf4j.LoggerFactory.getLogger(LocalFront.class).error("local front failed on {}", exchange.getRequestURI(), e);
            exchange.sendResponseHeaders(500, -1);
        }
    }

    private void route(HttpExchange exchange) throws IOException {
        String method = exchange.getRequestMethod();
        String path = exchange.getRequestURI().getRawPath();
        for (Route route : ROUTES) {
            Matcher m = route.path.matcher(path);
            if (m.matches()) {
                if (method.equals("OPTIONS")) {
                    preflight(exchange);
                } else if (method.equals(route.method)) {
                    invoke(exchange, route, m.groupCount() > 0 ? m.group(1) : null);
                } else {
                    send(exchange, 404, "application/json", "{\"message\":\"Not Found\"}".getBytes(StandardCharsets.UTF_8));
                }
                return;
            }
        }
        if (!method.equals("GET") && !method.equals("HEAD")) {
            send(exchange, 404, "application/json", "{\"message\":\"Not Found\"}".getBytes(StandardCharsets.UTF_8));
            return;
        }
        serveStatic(exchange, path);
    }

    private void invoke(HttpExchange exchange, Route route, String sessionId) throws IOException {
        byte[] body;
        try (InputStream in = exchange.getRequestBody()) {
            body = in.readNBytes(MAX_PAYLOAD + 1);
        }
        if (body.length > MAX_PAYLOAD) {
            send(exchange, 413, "application/json", "{\"message\":\"Request Entity Too Large\"}".getBytes(StandardCharsets.UTF_8));
            return;
        }
        java.time.Instant arrived = java.time.Instant.now();
        java.util.function.Supplier<backstop.core.connect.TokenBucket> factory = bucketFactory;
        if (factory != null && !buckets.computeIfAbsent(route.routeKey, key -> factory.get()).tryAcquire()) {
            logAccess(arrived, route, exchange, 429);
            corsHeaders(exchange);
            send(exchange, 429, "application/json", "{\"message\":\"Too Many Requests\"}".getBytes(StandardCharsets.UTF_8));
            return;
        }
        Integer failure = failing.get(route.routeKey);
        if (failure != null) {
            logAccess(arrived, route, exchange, failure);
            corsHeaders(exchange);
            String message = failure == 503 ? "Service Unavailable" : failure == 429 ? "Too Many Requests" : "Internal Server Error";
            send(exchange, failure, "application/json", ("{\"message\":\"" + message + "\"}").getBytes(StandardCharsets.UTF_8));
            return;
        }
        APIGatewayV2HTTPEvent event = event(exchange, route, sessionId, body);
        if (route.jwtAuthorizer) {
            // API Gateway runs the authorizer before the function: a refused token never reaches the handler.
            switch (authorizer.authorize(Optional.ofNullable(exchange.getRequestHeaders().getFirst("Authorization")))) {
                case JwtAuthorizer.Refused refused -> {
                    logAccess(arrived, route, exchange, 401);
                    corsHeaders(exchange);
                    JwtAuthorizer.wwwAuthenticate(refused).ifPresent(value -> exchange.getResponseHeaders().set("www-authenticate", value));
                    send(exchange, 401, "application/json", "{\"message\":\"Unauthorized\"}".getBytes(StandardCharsets.UTF_8));
                    return;
                }
                case JwtAuthorizer.Authorized authorized -> event.getRequestContext().setAuthorizer(
                        APIGatewayV2HTTPEvent.RequestContext.Authorizer.builder()
                                .withJwt(APIGatewayV2HTTPEvent.RequestContext.Authorizer.JWT.builder()
                                        .withClaims(authorized.claims()).withScopes(authorized.scopes()).build())
                                .build());
            }
        }
        APIGatewayV2HTTPResponse response = beacon.handleRequest(event, new LocalLambdaContext("BeaconFunction", 15_000));
        logAccess(arrived, route, exchange, response.getStatusCode());
        corsHeaders(exchange);
        if (response.getHeaders() != null) {
            response.getHeaders().forEach((k, v) -> exchange.getResponseHeaders().set(k, v));
        }
        byte[] out = response.getBody() == null ? new byte[0] : response.getBody().getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(response.getStatusCode(), out.length == 0 ? -1 : out.length);
        if (out.length > 0) {
            try (OutputStream stream = exchange.getResponseBody()) {
                stream.write(out);
            }
        }
    }

    private void logAccess(Instant arrived, Route route, HttpExchange exchange, int status) {
        accessLog.add(new AccessEntry(arrived, route.method + " " + exchange.getRequestURI().getRawPath() + " " + status
                + " origin=" + exchange.getRequestHeaders().getFirst("Origin")));
    }

    /** The event API Gateway would build: lower-case headers, text bodies as text, binary ones base64. */
    static APIGatewayV2HTTPEvent event(HttpExchange exchange, Route route, String sessionId, byte[] body) {
        Map<String, String> headers = new HashMap<>();
        exchange.getRequestHeaders().forEach((name, values) -> headers.put(name.toLowerCase(Locale.ROOT), String.join(",", values)));
        String contentType = headers.getOrDefault("content-type", "");
        boolean text = contentType.startsWith("text/") || contentType.startsWith("application/json");
        Instant now = Instant.now();
        APIGatewayV2HTTPEvent.RequestContext.Http http = APIGatewayV2HTTPEvent.RequestContext.Http.builder()
                .withMethod(route.method).withPath(exchange.getRequestURI().getRawPath()).withProtocol("HTTP/1.1")
                .withSourceIp(exchange.getRemoteAddress().getAddress().getHostAddress())
                .withUserAgent(headers.getOrDefault("user-agent", "")).build();
        APIGatewayV2HTTPEvent.RequestContext context = APIGatewayV2HTTPEvent.RequestContext.builder()
                .withAccountId("123456789012").withApiId("local").withDomainName("127.0.0.1")
                .withDomainPrefix("local").withHttp(http).withRequestId(UUID.randomUUID().toString())
                .withRouteKey(route.routeKey).withStage("$default")
                .withTime(DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ENGLISH).format(now.atOffset(ZoneOffset.UTC)))
                .withTimeEpoch(now.toEpochMilli()).build();
        return APIGatewayV2HTTPEvent.builder()
                .withVersion("2.0")
                .withRouteKey(route.routeKey)
                .withRawPath(exchange.getRequestURI().getRawPath())
                .withRawQueryString(exchange.getRequestURI().getRawQuery() == null ? "" : exchange.getRequestURI().getRawQuery())
                .withHeaders(headers)
                .withPathParameters(sessionId == null ? null : Map.of("sessionId", sessionId))
                .withRequestContext(context)
                .withBody(body.length == 0 ? null : text ? new String(body, StandardCharsets.UTF_8)
                        : java.util.Base64.getEncoder().encodeToString(body))
                .withIsBase64Encoded(body.length > 0 && !text)
                .build();
    }

    private void preflight(HttpExchange exchange) throws IOException {
        String origin = exchange.getRequestHeaders().getFirst("Origin");
        if (origin != null && allowedOrigins.contains(origin)) {
            exchange.getResponseHeaders().set("Access-Control-Allow-Origin", origin);
            exchange.getResponseHeaders().set("Access-Control-Allow-Methods", "POST,OPTIONS");
            exchange.getResponseHeaders().set("Access-Control-Allow-Headers", "authorization,content-type");
            exchange.getResponseHeaders().set("Access-Control-Max-Age", "600");
        }
        exchange.sendResponseHeaders(204, -1);
    }

    private void corsHeaders(HttpExchange exchange) {
        String origin = exchange.getRequestHeaders().getFirst("Origin");
        if (origin != null && allowedOrigins.contains(origin)) {
            exchange.getResponseHeaders().set("Access-Control-Allow-Origin", origin);
            exchange.getResponseHeaders().set("Access-Control-Expose-Headers", "date"); // the template's exposeHeaders
            exchange.getResponseHeaders().set("Vary", "Origin");
        }
    }

    private void serveStatic(HttpExchange exchange, String rawPath) throws IOException {
        String path = java.net.URLDecoder.decode(rawPath, StandardCharsets.UTF_8);
        if (path.equals("/")) {
            // Keep the query: http://127.0.0.1:3000/?agent=demo-ada opens that agent's page.
            String query = exchange.getRequestURI().getRawQuery();
            exchange.getResponseHeaders().set("Location", "/ccp.html" + (query == null ? "" : "?" + query));
            exchange.sendResponseHeaders(302, -1);
            return;
        }
        if (path.equals("/config.json")) {
            send(exchange, 200, "application/json", pageConfig.get().getBytes(StandardCharsets.UTF_8));
            return;
        }
        if (path.equals("/_local/ops.json")) {
            exchange.getResponseHeaders().set("Cache-Control", "no-store");
            send(exchange, 200, "application/json", opsState.get().getBytes(StandardCharsets.UTF_8));
            return;
        }
        if (path.equals("/ops")) {
            path = "/ops.html";
        }
        Path file = webRoot.resolve(path.substring(1)).normalize();
        if (!file.startsWith(webRoot) || !Files.isRegularFile(file) || file.toString().contains("/test/")
                || file.toString().contains("/e2e/")) {
            send(exchange, 404, "text/plain; charset=utf-8", "not found".getBytes(StandardCharsets.UTF_8));
            return;
        }
        String name = file.getFileName().toString();
        String extension = name.substring(name.lastIndexOf('.') + 1);
        exchange.getResponseHeaders().set("Cache-Control", "no-cache");
        if (extension.equals("html")) {
            // As a production host should send it (README "Hosting the page"): where the page may connect and
            // frame, and that nobody may frame it. Script and worker sources are in the page's own meta tag.
            exchange.getResponseHeaders().set("Content-Security-Policy", pagePolicy.apply(path));
        }
        send(exchange, 200, CONTENT_TYPES.getOrDefault(extension, "application/octet-stream"), Files.readAllBytes(file));
    }

    private static void send(HttpExchange exchange, int status, String contentType, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", contentType);
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head || body.length == 0 ? -1 : body.length);
        if (!head && body.length > 0) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }
}

package backstop.local.lambda;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The container credentials endpoint Lambda's Java runtime gives a SnapStart function: a loopback HTTP URL in
 * {@code AWS_CONTAINER_CREDENTIALS_FULL_URI}, answering a GET that carries {@code AWS_CONTAINER_AUTHORIZATION_TOKEN}
 * as its Authorization header with the role's temporary credentials (AWS SDKs and Tools reference guide, "Container
 * credential provider": {@code AccessKeyId}, {@code SecretAccessKey}, {@code Token}, {@code Expiration}). A request
 * without the token is refused. Each answer hands out a new access key id, so a test can tell which answer signed a call.
 */
final class ContainerCredentialsEndpoint implements AutoCloseable {
    static final String PATH = "/2021-04-23/credentials";

    private final HttpServer server;
    private final String token = UUID.randomUUID().toString();
    private volatile Duration lifetime;
    private final AtomicInteger served = new AtomicInteger();
    private final AtomicInteger refused = new AtomicInteger();
    private final List<String> keys = new CopyOnWriteArrayList<>();

    ContainerCredentialsEndpoint(Duration lifetime) throws IOException {
        this.lifetime = lifetime;
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext(PATH, this::handle);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.start();
    }

    /** How long the credentials it hands out from now on are valid. */
    void lifetime(Duration lifetime) {
        this.lifetime = lifetime;
    }

    int port() {
        return server.getAddress().getPort();
    }

    /** The token Lambda puts in AWS_CONTAINER_AUTHORIZATION_TOKEN. */
    String authorizationToken() {
        return token;
    }

    /** The access key ids handed out, in order. */
    List<String> accessKeyIds() {
        return List.copyOf(keys);
    }

    int refused() {
        return refused.get();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!exchange.getRequestMethod().equals("GET") || !token.equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
                refused.incrementAndGet();
                send(exchange, 403, "{\"Code\":\"AccessDenied\",\"Message\":\"bad authorization token\"}");
                return;
            }
            String key = "ASIALAMBDA" + String.format("%010d", served.incrementAndGet());
            keys.add(key);
            Instant expiration = Instant.now().plus(lifetime).truncatedTo(ChronoUnit.SECONDS);
            send(exchange, 200, "{\"AccessKeyId\":\"" + key + "\",\"SecretAccessKey\":\"secret-" + key
                    + "\",\"Token\":\"session-" + key + "\",\"Expiration\":\"" + expiration + "\"}");
        }
    }

    private static void send(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}

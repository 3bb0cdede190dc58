package backstop.local.lambda;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Lambda's Runtime API on 127.0.0.1, as a runtime sees it (Lambda developer guide, "Using the Lambda runtime API
 * for custom runtimes", and the SnapStart additions the Java runtime interface client calls): the runtime posts an
 * init error or asks for its first invocation; under SnapStart it first asks {@code /runtime/restore/next}, which
 * answers only once the snapshot is restored (here: when the test calls {@link #restore()}), and may post a restore
 * error. Each invocation carries the request id, the deadline, the function's ARN and a trace id as headers.
 */
final class LambdaRuntimeApi implements AutoCloseable {
    private static final String PREFIX = "/2018-06-01/runtime";

    /** What the runtime answered for one invocation. */
    record Outcome(String requestId, boolean error, String body, long tookMillis) {
    }

    private record Invocation(String requestId, String event, long deadlineMillis) {
    }

    private final HttpServer server;
    private final String functionArn;
    private final BlockingQueue<Invocation> pending = new LinkedBlockingQueue<>();
    private final Map<String, BlockingQueue<Outcome>> outcomes = new ConcurrentHashMap<>();
    private final Map<String, Long> handedOutAt = new ConcurrentHashMap<>();
    private final List<String> initErrors = new CopyOnWriteArrayList<>();
    private final List<String> restoreErrors = new CopyOnWriteArrayList<>();
    private final CountDownLatch checkpointReached = new CountDownLatch(1);
    private final CountDownLatch restored = new CountDownLatch(1);
    private final CountDownLatch initFailed = new CountDownLatch(1);

    LambdaRuntimeApi(String functionArn) throws IOException {
        this.functionArn = functionArn;
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext(PREFIX, this::handle);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor()); // /next is a long poll
        server.start();
    }

    /** The value of AWS_LAMBDA_RUNTIME_API: host and port. */
    String hostAndPort() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    /**
     * Waits until the runtime has run its beforeCheckpoint hooks and asked to be restored; false on timeout, on an
     * init error, or when {@code alive} says the runtime's process ended.
     */
    boolean awaitCheckpoint(Duration timeout, BooleanSupplier alive) throws InterruptedException {
        return await(checkpointReached, timeout, () -> initFailed.getCount() > 0 && alive.getAsBoolean());
    }

    /** Waits for the runtime to report an init error (a failed priming); false on timeout or when its process ended first. */
    boolean awaitInitError(Duration timeout, BooleanSupplier alive) throws InterruptedException {
        return await(initFailed, timeout, alive);
    }

    private static boolean await(CountDownLatch latch, Duration timeout, BooleanSupplier worthWaiting) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        do {
            if (latch.await(100, TimeUnit.MILLISECONDS)) {
                return true;
            }
        } while (System.nanoTime() < end && worthWaiting.getAsBoolean());
        return latch.getCount() == 0;
    }

    /** Answers {@code /runtime/restore/next}: the snapshot is restored, the afterRestore hooks run next. */
    void restore() {
        restored.countDown();
    }

    List<String> initErrors() {
        return List.copyOf(initErrors);
    }

    List<String> restoreErrors() {
        return List.copyOf(restoreErrors);
    }

    /** Hands {@code event} to the runtime's next poll with {@code timeout} as its deadline; waits for the answer. */
    Outcome invoke(String event, Duration timeout, Duration wait) throws InterruptedException {
        String requestId = UUID.randomUUID().toString();
        BlockingQueue<Outcome> answer = new LinkedBlockingQueue<>();
        outcomes.put(requestId, answer);
        pending.add(new Invocation(requestId, event, System.currentTimeMillis() + timeout.toMillis()));
        Outcome outcome = answer.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
        if (outcome == null) {
            throw new AssertionError("the runtime did not answer invocation " + requestId + " within " + wait);
        }
        return outcome;
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath().substring(PREFIX.length());
            String method = exchange.getRequestMethod();
            byte[] body = exchange.getRequestBody().readAllBytes();
            if (method.equals("GET") && path.equals("/invocation/next")) {
                Invocation next = pending.take();
                handedOutAt.put(next.requestId(), System.nanoTime());
                exchange.getResponseHeaders().set("Lambda-Runtime-Aws-Request-Id", next.requestId());
                exchange.getResponseHeaders().set("Lambda-Runtime-Deadline-Ms", Long.toString(next.deadlineMillis()));
                exchange.getResponseHeaders().set("Lambda-Runtime-Invoked-Function-Arn", functionArn);
                exchange.getResponseHeaders().set("Lambda-Runtime-Trace-Id",
                        "Root=1-" + Long.toHexString(System.currentTimeMillis() / 1000) + "-" + next.requestId().replace("-", "").substring(0, 24) + ";Sampled=0");
                exchange.getResponseHeaders().set("Content-Type", "application/json");
                send(exchange, 200, next.event());
            } else if (method.equals("POST") && path.matches("/invocation/[^/]+/(response|error)")) {
                String requestId = path.split("/")[2];
                Long start = handedOutAt.remove(requestId);
                long took = start == null ? -1 : (System.nanoTime() - start) / 1_000_000;
                BlockingQueue<Outcome> answer = outcomes.remove(requestId);
                if (answer != null) {
                    answer.add(new Outcome(requestId, path.endsWith("/error"), new String(body, StandardCharsets.UTF_8), took));
                }
                send(exchange, 202, "{\"status\":\"OK\"}");
            } else if (method.equals("POST") && path.equals("/init/error")) {
                initErrors.add(new String(body, StandardCharsets.UTF_8));
                initFailed.countDown();
                send(exchange, 202, "{\"status\":\"OK\"}");
            } else if (method.equals("GET") && path.equals("/restore/next")) {
                checkpointReached.countDown();
                restored.await();
                send(exchange, 200, "");
            } else if (method.equals("POST") && path.equals("/restore/error")) {
                restoreErrors.add(new String(body, StandardCharsets.UTF_8));
                send(exchange, 202, "{\"status\":\"OK\"}");
            } else {
                send(exchange, 404, "{\"errorMessage\":\"no such runtime API path\"}");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void send(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
            exchange.getResponseBody().write(bytes);
        }
    }

    @Override
    public void close() {
        restored.countDown();
        server.stop(0);
    }
}

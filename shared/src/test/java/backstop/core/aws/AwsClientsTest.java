package backstop.core.aws;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.regions.Region;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The clients try each call exactly as their {@link CallPolicy} says, whatever the environment says: the SDK's
 * own settings (here the system properties {@code aws.maxAttempts} and {@code aws.retryMode}, which it reads like
 * AWS_MAX_ATTEMPTS and AWS_RETRY_MODE) change nothing. Against a local server that fails or hangs every request.
 */
class AwsClientsTest {
    HttpServer server;
    final AtomicInteger requests = new AtomicInteger();
    volatile int status = 500;
    volatile long hangMillis;

    @BeforeEach
    void start() throws IOException {
        System.setProperty("aws.maxAttempts", "12");
        System.setProperty("aws.retryMode", "adaptive");
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            requests.incrementAndGet();
            try {
                Thread.sleep(hangMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            byte[] body = "{\"__type\":\"InternalServerError\",\"message\":\"down\"}".getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/x-amz-json-1.0");
            exchange.getResponseHeaders().set("x-amzn-ErrorType", "InternalServerError");
            exchange.sendResponseHeaders(status, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
        System.clearProperty("aws.maxAttempts");
        System.clearProperty("aws.retryMode");
    }

    AwsClients clients(ClientPolicies policies) {
        URI endpoint = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
        return AwsClients.create(new AwsClients.Target(Region.US_EAST_1,
                StaticCredentialsProvider.create(AwsBasicCredentials.create("testing", "testing")),
                Optional.of(endpoint), Optional.of(endpoint)), policies);
    }

    @Test
    void everyClient_should_makeExactlyItsPolicysAttempts_whateverTheEnvironmentSays() {
        try (AwsClients beacon = clients(ClientPolicies.BEACON); AwsClients reconciler = clients(ClientPolicies.RECONCILER)) {
            assertThat(attempts(() -> beacon.dynamoDb().getItem(r -> r.tableName("t").key(java.util.Map.of()))))
                    .isEqualTo(ClientPolicies.BEACON.dynamoDb().maxAttempts()).isEqualTo(3);
            assertThat(attempts(() -> beacon.eventBridge().putEvents(r -> r.entries(e -> e.source("s").detailType("d").detail("{}")))))
                    .isEqualTo(3);
            assertThat(attempts(() -> beacon.connect().putUserStatus(r -> r.instanceId("i").userId("u").agentStatusId("a"))))
                    .as("the beacon: a second try, then the reconciler's turn").isEqualTo(2);
            assertThat(attempts(() -> reconciler.connect().putUserStatus(r -> r.instanceId("i").userId("u").agentStatusId("a"))))
                    .as("the reconciler: one call per paced token").isEqualTo(1);
        }
    }

    @Test
    void aCallToAHangingService_should_endWithinItsPolicysLimit() {
        hangMillis = 30_000;
        status = 200;
        try (AwsClients beacon = clients(ClientPolicies.BEACON)) {
            long started = System.nanoTime();
            assertThatThrownBy(() -> beacon.dynamoDb().getItem(r -> r.tableName("t").key(java.util.Map.of())))
                    .isInstanceOf(SdkException.class);
            Duration took = Duration.ofNanos(System.nanoTime() - started);
            assertThat(took).as("GetItem against a hung DynamoDB")
                    .isLessThan(ClientPolicies.BEACON.dynamoDb().apiCallTimeout().plusSeconds(2));
        }
    }

    @Test
    void worstCaseClose_should_fitTheBeaconsTimeout_andApiGateways30Seconds() {
        // template.yaml: BeaconFunction Timeout 25 (TemplateTest checks the template says so).
        assertThat(ClientPolicies.BEACON.worstCaseClose()).isEqualTo(Duration.ofSeconds(19)).isLessThan(Duration.ofSeconds(25));
        assertThat(ClientPolicies.RECONCILER.reconcilerDrain()).isEqualTo(Duration.ofSeconds(8));
    }

    private int attempts(Runnable call) {
        requests.set(0);
        assertThatThrownBy(call::run).isInstanceOf(SdkException.class);
        return requests.get();
    }
}

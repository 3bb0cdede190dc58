package backstop.local.aws;

import backstop.core.aws.AwsClients;
import backstop.core.aws.ClientPolicies;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The one place that provides AWS endpoints (DynamoDB, EventBridge, SQS, SNS, CloudWatch) to the tests and the
 * local stack, chosen in this order:
 * <ol>
 *   <li>{@code AWS_ENDPOINT_URL} when set (an emulator someone already runs);</li>
 *   <li>LocalStack through Testcontainers when a Docker engine answers;</li>
 *   <li>a moto server subprocess on a free loopback port ({@code python3 -m moto.server}), started once per JVM
 *       and stopped when the JVM ends (also when it is killed: the subprocess watches its stdin);</li>
 *   <li>otherwise a failure that says what to install.</li>
 * </ol>
 * {@code BACKSTOP_AWS_BACKEND=endpoint|localstack|moto} forces one.
 */
public final class AwsEmulation {
    public static final Region REGION = Region.US_EAST_1;
    public static final String ACCOUNT_ID = "123456789012";

    private static AwsEmulation shared;

    private final String backend;
    private final URI endpoint;
    private final AutoCloseable stopper;

    private AwsEmulation(String backend, URI endpoint, AutoCloseable stopper) {
        this.backend = backend;
        this.endpoint = endpoint;
        this.stopper = stopper;
    }

    /** The JVM-wide emulation, started on first use and stopped at JVM exit. */
    public static synchronized AwsEmulation shared() {
        if (shared == null) {
            shared = start(0);
            AwsEmulation started = shared;
            Runtime.getRuntime().addShutdownHook(new Thread(started::stop, "aws-emulation-stop"));
        }
        return shared;
    }

    /**
     * Starts an emulation; {@code motoPort} 0 picks a free port (the local stack asks for 3002).
     */
    public static AwsEmulation start(int motoPort) {
        String forced = Optional.ofNullable(System.getenv("BACKSTOP_AWS_BACKEND")).orElse("");
        String configured = System.getenv("AWS_ENDPOINT_URL");
        if ((forced.isEmpty() || forced.equals("endpoint")) && configured != null && !configured.isBlank()) {
            return new AwsEmulation("endpoint", URI.create(configured), () -> { });
        }
        if (forced.equals("endpoint")) {
            throw new IllegalStateException("BACKSTOP_AWS_BACKEND=endpoint needs AWS_ENDPOINT_URL");
        }
        if (forced.equals("localstack") || (forced.isEmpty() && LocalStackBackend.dockerAnswers())) {
            return LocalStackBackend.start();
        }
        return startMoto(motoPort);
    }

    static AwsEmulation of(String backend, URI endpoint, AutoCloseable stopper) {
        return new AwsEmulation(backend, endpoint, stopper);
    }

    private static AwsEmulation startMoto(int requestedPort) {
        if (!motoInstalled()) {
            throw new IllegalStateException("""
                    No AWS emulator: AWS_ENDPOINT_URL is unset, no Docker engine answers (for LocalStack), and moto \
                    server is missing. Install it with: pip install 'moto[server]' (or set AWS_ENDPOINT_URL).""");
        }
        int port = requestedPort == 0 ? freePort() : requestedPort;
        try {
            Path log = Files.createTempFile("moto-" + port + "-", ".log");
            // backstop-moto-server.py: moto, one request at a time and with a cheaper transaction rollback
            // copy (the file says why); it exits when our end of its stdin closes.
            Path script = Files.createTempFile("backstop-moto-server-", ".py");
            script.toFile().deleteOnExit();
            try (var in = AwsEmulation.class.getResourceAsStream("/backstop-moto-server.py")) {
                Files.write(script, in.readAllBytes());
            }
            Process process = new ProcessBuilder(List.of("python3", script.toString(), Integer.toString(port)))
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            URI endpoint = URI.create("http://127.0.0.1:" + port);
            awaitPort(port, process, log);
            return new AwsEmulation("moto", endpoint, () -> stopProcess(process));
        } catch (IOException e) {
            throw new UncheckedIOException("could not start moto server", e);
        }
    }

    private static boolean motoInstalled() {
        try {
            Process probe = new ProcessBuilder("python3", "-c", "import moto.server").redirectErrorStream(true).start();
            probe.getInputStream().readAllBytes();
            return probe.waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static void awaitPort(int port, Process process, Path log) throws IOException {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
        while (Instant.now().isBefore(deadline)) {
            if (!process.isAlive()) {
                throw new IllegalStateException("moto server exited at start (port " + port + " taken?): "
                        + Files.readString(log));
            }
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for moto", e);
                }
            }
        }
        process.destroyForcibly();
        throw new IllegalStateException("moto server did not open port " + port + " within 30 s: " + Files.readString(log));
    }

    private static void stopProcess(Process process) {
        process.destroy();
        try {
            if (!process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, java.util.concurrent.TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A free port on the loopback address. */
    public static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String backend() {
        return backend;
    }

    public URI endpoint() {
        return endpoint;
    }

    /** Client target for this emulation; {@code connectEndpoint} is the Connect emulator's. */
    public AwsClients.Target target(URI connectEndpoint) {
        return new AwsClients.Target(REGION,
                StaticCredentialsProvider.create(AwsBasicCredentials.create("testing", "testing")),
                Optional.of(endpoint), Optional.ofNullable(connectEndpoint));
    }

    /**
     * A function's call policies with the emulation's timeouts: the same attempts, but a minute per attempt, since
     * moto serves one request at a time and under a burst of tests its answers queue up for seconds.
     */
    public static ClientPolicies policies(ClientPolicies function) {
        return function.atLeast(Duration.ofSeconds(60), Duration.ofSeconds(120));
    }

    /** Whether this emulation can stage an index still backfilling ({@link #indexBackfilling}): moto through our script. */
    public boolean stagesBackfilling() {
        return backend.equals("moto");
    }

    /**
     * Marks a global secondary index as still backfilling after the deploy that added it (DescribeTable: CREATING,
     * Backfilling true; every Query on it: DynamoDB's ValidationException), or as filled again. Moto builds an
     * index at once; backstop-moto-server.py stages the phase DynamoDB goes through.
     */
    public void indexBackfilling(String table, String index, boolean backfilling) {
        if (!stagesBackfilling()) {
            throw new IllegalStateException("the " + backend + " emulation cannot stage a backfilling index");
        }
        String body = "{\"TableName\": \"" + table + "\", \"IndexName\": \"" + index + "\", \"Backfilling\": " + backfilling + "}";
        try (java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient()) {
            java.net.http.HttpResponse<String> answer = http.send(java.net.http.HttpRequest.newBuilder(endpoint.resolve("/backstop/backfilling"))
                            .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            if (answer.statusCode() != 200) {
                throw new IllegalStateException("no index " + index + " on table " + table + ": " + answer.body());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not reach moto", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while marking " + index, e);
        }
    }

    public synchronized void stop() {
        try {
            stopper.close();
        } catch (Exception e) {
            throw new IllegalStateException("could not stop the " + backend + " emulation", e);
        }
    }
}

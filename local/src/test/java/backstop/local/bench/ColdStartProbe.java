package backstop.local.bench;

import backstop.beacon.BeaconHandler;
import backstop.beacon.BeaconWiring;
import backstop.core.aws.AwsClients;
import backstop.core.config.BackstopConfig;
import com.amazonaws.services.lambda.runtime.ClientContext;
import com.amazonaws.services.lambda.runtime.CognitoIdentity;
import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaLogger;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.services.connect.ConnectClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.eventbridge.EventBridgeClient;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Map;

/**
 * The child JVM of {@link ColdStartBenchmark}: what a Lambda container does on its first request. It builds the
 * beacon handler ({@code lean}: the production constructor, configuration and clients exactly as in Lambda;
 * {@code naive}: the same service on SDK clients built the default way, Apache HTTP client and the default
 * credential and region chains) and handles one close beacon, then prints the answer. The parent times the
 * whole thing, from process start to this line.
 */
public final class ColdStartProbe {
    private ColdStartProbe() {
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        String sessionId = args[1];
        String token = args[2];
        String origin = args[3];
        BeaconHandler handler = switch (mode) {
            case "lean" -> new BeaconHandler();
            case "naive" -> naive();
            case "primed" -> primed();
            default -> throw new IllegalArgumentException("mode lean, naive or primed");
        };
        System.out.println("INIT");
        System.out.flush();
        APIGatewayV2HTTPEvent close = APIGatewayV2HTTPEvent.builder()
                .withRouteKey("POST /sessions/{sessionId}/close")
                .withRawPath("/sessions/" + sessionId + "/close")
                .withPathParameters(Map.of("sessionId", sessionId))
                .withHeaders(Map.of("content-type", "text/plain;charset=UTF-8", "origin", origin))
                .withBody("{\"token\":\"" + token + "\",\"reason\":\"pagehide\",\"status\":{\"name\":\"Available\"}}")
                .withIsBase64Encoded(false)
                .build();
        long first = System.nanoTime();
        APIGatewayV2HTTPResponse response = handler.handleRequest(close, new ProbeContext());
        System.out.println("FIRST " + (System.nanoTime() - first) / 1_000_000);
        System.out.println("CLOSED " + response.getStatusCode() + " " + response.getBody());
        System.out.flush();
        System.exit(0); // as a frozen container: nothing after the answer counts
    }

    private static BeaconHandler naive() {
        BackstopConfig config = BackstopConfig.fromEnvironment();
        AwsClients clients = new AwsClients(
                DynamoDbClient.builder().httpClient(Apache5HttpClient.create()).build(),
                EventBridgeClient.builder().httpClient(Apache5HttpClient.create()).build(),
                ConnectClient.builder().httpClient(Apache5HttpClient.create()).build(),
                null);
        return new BeaconHandler(BeaconWiring.api(config, clients, Clock.systemUTC()));
    }

    /** What SnapStart snapshots: the production graph after init and the beforeCheckpoint priming. */
    private static BeaconHandler primed() throws org.crac.CheckpointException {
        BackstopConfig config = BackstopConfig.fromEnvironment();
        AwsClients clients = AwsClients.create(AwsClients.Target.fromLambdaEnvironment(config), backstop.core.aws.ClientPolicies.BEACON);
        BeaconWiring.Beacon beacon = BeaconWiring.beacon(config, clients, Clock.systemUTC());
        beacon.priming().beforeCheckpoint(null);
        beacon.priming().afterRestore(null);
        return new BeaconHandler(beacon.api());
    }

    /** The little of a Lambda context the handlers read (also {@link ReconcilerMemoryProbe}'s). */
    static final class ProbeContext implements Context {
        private final String function;
        private final long deadline;

        ProbeContext() {
            this("BeaconFunction", 10_000);
        }

        ProbeContext(String function, int remainingMillis) {
            this.function = function;
            this.deadline = System.currentTimeMillis() + remainingMillis;
        }

        @Override public String getAwsRequestId() { return "probe"; }
        @Override public String getLogGroupName() { return "probe"; }
        @Override public String getLogStreamName() { return "probe"; }
        @Override public String getFunctionName() { return function; }
        @Override public String getFunctionVersion() { return "$LATEST"; }
        @Override public String getInvokedFunctionArn() { return "arn:aws:lambda:us-east-1:000000000000:function:" + function; }
        @Override public CognitoIdentity getIdentity() { return null; }
        @Override public ClientContext getClientContext() { return null; }
        @Override public int getRemainingTimeInMillis() { return (int) Math.max(0, deadline - System.currentTimeMillis()); }
        @Override public int getMemoryLimitInMB() { return 1024; }
        @Override public LambdaLogger getLogger() {
            return new LambdaLogger() {
                @Override public void log(String message) { System.err.print(message); }
                @Override public void log(byte[] message) { System.err.print(new String(message, StandardCharsets.UTF_8)); }
            };
        }
    }
}

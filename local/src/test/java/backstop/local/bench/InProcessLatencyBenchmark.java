package backstop.local.bench;

import backstop.beacon.BeaconHandler;
import backstop.beacon.BeaconWiring;
import backstop.local.DemoInstance;
import backstop.local.LocalLambdaContext;
import backstop.local.LocalStack;
import backstop.local.connect.ConnectEmulator;
import backstop.local.connect.Quota;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.time.Clock;
import java.util.Arrays;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Not part of the test run: the close beacon handled in-process by the beacon handler, warm, against moto and
 * the Connect emulator through the real SDK clients. N sessions are registered, then each is closed (its
 * agent's last tab: the full path, transaction + PutUserStatus + completion + event); every handleRequest is
 * timed. The first 200 closes warm the JIT and are not counted. moto is one Python process serving one request
 * at a time, so the figures are an upper bound of our own code plus moto's work.
 * <pre>local/bin/bench latency   (or: local/bin/test -pl local -Dtest=InProcessLatencyBenchmark -Dbench=true -Dcloses=10000)</pre>
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class InProcessLatencyBenchmark {
    static final int WARM_UP = 200;

    @Test
    void measure() throws Exception {
        int closes = Integer.getInteger("closes", 10_000);
        try (LocalStack stack = LocalStack.start(LocalStack.Options.forTests()); CountingClients counted = new CountingClients(stack)) {
            stack.connect().setQuota(Quota.OFF);
            // Every agent here registers for the first time, so each register makes a DescribeUser, which the beacon
            // paces at CONNECT_RATE_PER_SECOND per container (1.5/s by default: 0.67 s apart). That pacing is set out of
            // the way (100/s) so the figure is the handler's own cost, comparable with earlier runs; agents seen
            // before (the usual register) make no DescribeUser at all.
            java.util.Map<String, String> env = new java.util.HashMap<>(stack.environment());
            env.put("CONNECT_RATE_PER_SECOND", "100");
            BeaconHandler handler = new BeaconHandler(BeaconWiring.api(backstop.core.config.BackstopConfig.fromEnvironment(env),
                    counted.clients(), Clock.systemUTC()));
            String origin = stack.config().allowedOrigins().getFirst();
            int total = closes + WARM_UP;
            String[] sessions = new String[total];
            String[] tokens = new String[total];
            long[] registerNanos = new long[total];
            for (int i = 0; i < total; i++) {
                String userId = "lat-" + i;
                stack.connect().addAgent(stack.instanceId(), userId, userId, "Latency", "Agent", "rp-sales", "Available");
                APIGatewayV2HTTPEvent register = event("POST /sessions", Map.of(), origin,
                        "{\"agentArn\":\"" + DemoInstance.instanceArn(stack.instanceId()) + "/agent/" + userId + "\"}");
                // What API Gateway's JWT authorizer hands on for this agent's own token.
                register.setRequestContext(APIGatewayV2HTTPEvent.RequestContext.builder().withAuthorizer(
                        APIGatewayV2HTTPEvent.RequestContext.Authorizer.builder().withJwt(APIGatewayV2HTTPEvent.RequestContext.Authorizer.JWT.builder()
                                .withClaims(Map.of("preferred_username", userId)).build()).build()).build());
                long start = System.nanoTime();
                APIGatewayV2HTTPResponse registered = handler.handleRequest(register, new LocalLambdaContext("BeaconFunction", 15_000));
                registerNanos[i] = System.nanoTime() - start;
                assertThat(registered.getStatusCode()).isEqualTo(201);
                sessions[i] = registered.getBody().replaceAll(".*\"sessionId\":\"([^\"]+)\".*", "$1");
                tokens[i] = registered.getBody().replaceAll(".*\"token\":\"([^\"]+)\".*", "$1");
            }
            Map<String, Long> registerRequestsAll = counted.requests();
            counted.reset();
            // One heartbeat per session (a beat may follow its register at once): timed, and Connect must not hear of it.
            long connectCallsBefore = stack.connect().calls().size();
            long[] beatNanos = timeEach(handler, total, i -> event("POST /sessions/{sessionId}/heartbeat",
                    Map.of("sessionId", sessions[i]), origin, "{\"token\":\"" + tokens[i] + "\",\"status\":{\"name\":\"Available\"}}"),
                    answer -> assertThat(answer.getStatusCode()).isEqualTo(200));
            long heartbeatConnectCalls = stack.connect().calls().size() - connectCallsBefore;
            Map<String, Long> heartbeatRequests = counted.requests();
            counted.reset();
            long connectBeforeCloses = stack.connect().calls().size();
            long eventsBeforeCloses = stack.events().events().size();
            long[] closeNanos = timeEach(handler, total, i -> event("POST /sessions/{sessionId}/close",
                    Map.of("sessionId", sessions[i]), origin, "{\"token\":\"" + tokens[i] + "\",\"reason\":\"pagehide\",\"status\":{\"name\":\"Available\"}}"),
                    answer -> assertThat(answer.getBody()).isEqualTo("{\"offline\":\"done\"}"));
            assertThat(stack.connect().calls(ConnectEmulator.PUT_USER_STATUS)).hasSize(total);
            Map<String, Long> closeRequests = counted.requests();
            System.out.printf("requests per register: DynamoDB %s; per heartbeat: DynamoDB %s; per close: DynamoDB %s,"
                            + " Connect %.3f, events %.3f (over %d of each)%n", perOne(registerRequestsAll, total), perOne(heartbeatRequests, total),
                    perOne(closeRequests, total), (stack.connect().calls().size() - connectBeforeCloses) / (double) total,
                    (stack.events().events().size() - eventsBeforeCloses) / (double) total, total);
            print("close", Arrays.copyOfRange(closeNanos, WARM_UP, total));
            print("register", Arrays.copyOfRange(registerNanos, WARM_UP, total));
            print("heartbeat", Arrays.copyOfRange(beatNanos, WARM_UP, total));
            System.out.printf("quota: %d heartbeats made %d Connect calls (%.3f per heartbeat)%n", total, heartbeatConnectCalls,
                    heartbeatConnectCalls / (double) total);
        }
    }

    /** Hands {@code count} events to the handler one after another; the nanoseconds each took. */
    static long[] timeEach(BeaconHandler handler, int count, java.util.function.IntFunction<APIGatewayV2HTTPEvent> event,
                           java.util.function.Consumer<APIGatewayV2HTTPResponse> check) {
        long[] nanos = new long[count];
        for (int i = 0; i < count; i++) {
            APIGatewayV2HTTPEvent request = event.apply(i);
            long start = System.nanoTime();
            APIGatewayV2HTTPResponse answer = handler.handleRequest(request, new LocalLambdaContext("BeaconFunction", 15_000));
            nanos[i] = System.nanoTime() - start;
            check.accept(answer);
        }
        return nanos;
    }

    static Map<String, String> perOne(Map<String, Long> counts, int of) {
        Map<String, String> per = new java.util.TreeMap<>();
        counts.forEach((operation, count) -> per.put(operation, String.format("%.2f", count / (double) of)));
        return per;
    }

    static APIGatewayV2HTTPEvent event(String route, Map<String, String> path, String origin, String body) {
        return APIGatewayV2HTTPEvent.builder().withRouteKey(route).withPathParameters(path)
                .withHeaders(Map.of("content-type", "text/plain;charset=UTF-8", "origin", origin))
                .withBody(body).withIsBase64Encoded(false).build();
    }

    static void print(String what, long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        System.out.printf("in-process %s (warm, N=%d, moto + emulator): p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms%n",
                what, sorted.length, at(sorted, 50), at(sorted, 90), at(sorted, 99), sorted[sorted.length - 1] / 1e6);
    }

    static double at(long[] sorted, double p) {
        int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))] / 1e6;
    }
}

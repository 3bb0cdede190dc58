package backstop.local.it;

import backstop.beacon.BeaconApi;
import backstop.beacon.BeaconWiring;
import backstop.core.session.DynamoSessionStore;
import backstop.core.session.DynamoTransitionStore;
import backstop.reconciler.ReconcilerMetrics;
import backstop.reconciler.ReconcilerWiring;
import backstop.core.http.HttpRequest;
import backstop.core.http.HttpResponse;
import backstop.local.DemoInstance;
import backstop.local.LocalStack;
import backstop.local.connect.ConnectEmulator;
import backstop.local.connect.Quota;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The beacon's SnapStart hooks against moto and the Connect emulator: priming runs the close path's JSON,
 * DynamoDB and Connect code without writing anything, calling PutUserStatus or publishing; after a restore the
 * function works as before with a reseeded random source. (No CRaC-capable JVM here: the hooks are invoked
 * as the Lambda runtime invokes them, before the snapshot and after each restore.)
 */
class SnapStartPrimingTest {
    static LocalStack stack;

    @BeforeAll
    static void start() throws Exception {
        stack = LocalStack.start(LocalStack.Options.forTests());
        stack.connect().setQuota(Quota.OFF);
    }

    @AfterAll
    static void stop() {
        stack.close();
    }

    /**
     * The table's items but the shared Connect budget's (CONNECT_BUDGET#<api>): priming's one ListAgentStatuses is
     * a real Connect call, so it takes its turn like any other; no session, transition, agent or event is written.
     */
    static int items() {
        return (int) stack.clients().dynamoDb().scan(r -> r.tableName(stack.config().sessionsTable())).items().stream()
                .filter(item -> !item.get("pk").s().startsWith("CONNECT_BUDGET#")).count();
    }

    @Test
    void priming_should_exerciseJsonDynamoDbAndConnect_withoutSideEffects_andRestoreShouldKeepTheFunctionWorking() throws Exception {
        BeaconWiring.Beacon beacon = BeaconWiring.beacon(stack.config(), stack.clients(), Clock.systemUTC());
        int itemsBefore = items();
        int eventsBefore = stack.events().events().size();
        int callsBefore = stack.connect().calls().size();

        List<String> steps = beacon.priming().prime();
        beacon.priming().beforeCheckpoint(null); // as the runtime calls it before the snapshot

        assertThat(steps).containsExactly(
                "credentials -> resolved",
                "DynamoDB GetItem of an unknown session -> none",
                "close of an unknown session -> 404",
                "register for a foreign instance -> 403",
                "ListAgentStatuses -> offline status cached",
                "event entry built, not sent");
        assertThat(items()).as("nothing written").isEqualTo(itemsBefore);
        assertThat(stack.events().events()).as("nothing published").hasSize(eventsBefore);
        assertThat(stack.connect().calls().subList(callsBefore, stack.connect().calls().size()))
                .as("Connect: read-only, and the Offline status looked up once").extracting(c -> c.operation())
                .containsExactly(ConnectEmulator.LIST_AGENT_STATUSES);

        long listsAfterPriming = stack.connect().calls(ConnectEmulator.LIST_AGENT_STATUSES).size();
        beacon.priming().afterRestore(null);

        String userId = "primed-" + UUID.randomUUID();
        stack.connect().addAgent(stack.instanceId(), userId, userId, "Primed", "Agent", "rp-sales", "Available");
        BeaconApi api = beacon.api();
        Map<String, String> headers = Map.of("content-type", "text/plain;charset=UTF-8");
        HttpResponse registered = api.handle(new HttpRequest(BeaconApi.REGISTER, Map.of(), headers,
                ("{\"agentArn\":\"" + DemoInstance.instanceArn(stack.instanceId()) + "/agent/" + userId + "\"}").getBytes(StandardCharsets.UTF_8),
                Map.of("preferred_username", userId))); // the claims API Gateway's JWT authorizer hands on
        assertThat(registered.status()).isEqualTo(201);
        String body = registered.body();
        String sessionId = body.replaceAll(".*\"sessionId\":\"([^\"]+)\".*", "$1");
        String token = body.replaceAll(".*\"token\":\"([^\"]+)\".*", "$1");
        HttpResponse closed = api.handle(new HttpRequest(BeaconApi.CLOSE, Map.of("sessionId", sessionId), headers,
                ("{\"token\":\"" + token + "\",\"reason\":\"pagehide\"}").getBytes(StandardCharsets.UTF_8)));
        assertThat(closed.body()).isEqualTo("{\"offline\":\"done\"}");
        assertThat(stack.connect().calls(ConnectEmulator.LIST_AGENT_STATUSES)).as("the primed Offline status id is reused")
                .hasSize((int) listsAfterPriming);
    }
    @Test
    void reconcilerPriming_should_readOnly_andTheRestoredReconcilerShouldSweepAsBefore() throws Exception {
        ReconcilerWiring.Primed primed = ReconcilerWiring.withPriming(stack.config(),
                new DynamoSessionStore(stack.reconcilerClients().dynamoDb(), stack.config().sessionsTable()),
                new DynamoTransitionStore(stack.reconcilerClients().dynamoDb(), stack.config().sessionsTable()), stack.reconcilerClients(),
                Clock.systemUTC(), wake -> { }, ReconcilerMetrics.NONE);
        int itemsBefore = items();
        int eventsBefore = stack.events().events().size();
        int callsBefore = stack.connect().calls().size();

        List<String> steps = primed.priming().prime();
        primed.priming().beforeCheckpoint(null);
        primed.priming().afterRestore(null);

        assertThat(steps).hasSize(3).last().isEqualTo("ListAgentStatuses -> offline status cached");
        assertThat(steps.getFirst()).isEqualTo("credentials -> resolved");
        assertThat(steps.get(1)).startsWith("due backlog -> counted: ");
        assertThat(items()).as("nothing written").isEqualTo(itemsBefore);
        assertThat(stack.events().events()).as("nothing published").hasSize(eventsBefore);
        assertThat(stack.connect().calls().subList(callsBefore, stack.connect().calls().size()))
                .extracting(c -> c.operation()).containsExactly(ConnectEmulator.LIST_AGENT_STATUSES);
        assertThat(primed.reconciler().sweepOnce().staleClosed()).as("a sweep after the restore works").isZero();
    }
}

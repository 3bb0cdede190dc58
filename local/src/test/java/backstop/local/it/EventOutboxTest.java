package backstop.local.it;

import backstop.local.DemoInstance;
import backstop.local.LocalStack;
import backstop.local.Waits;
import backstop.local.connect.Quota;
import backstop.reconciler.ReconcilerMetrics;
import backstop.reconciler.ReconcilerWiring;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Events are never lost: while EventBridge refuses every entry (FailedEntryCount, after the publisher's own
 * retries), the beacon keeps the event on the table; the reconciler's next sweep publishes it, with the time it
 * happened, and forgets it.
 */
class EventOutboxTest {
    static LocalStack stack;
    static ApiClient api;

    @BeforeAll
    static void start() throws Exception {
        stack = LocalStack.start(LocalStack.Options.forTests());
        stack.connect().setQuota(Quota.OFF);
        api = new ApiClient(stack);
    }

    @AfterAll
    static void stop() {
        stack.events().refuse(false);
        stack.close();
    }

    static List<Map<String, AttributeValue>> kept() {
        return stack.clients().dynamoDb().query(r -> r.tableName(stack.config().sessionsTable())
                .keyConditionExpression("pk = :pk").expressionAttributeValues(Map.of(":pk", AttributeValue.fromS("OUTBOX")))
                .consistentRead(true)).items();
    }

    @Test
    void refusedEvent_should_beKeptOnTheTable_andPublishedByTheNextSweep_withItsOriginalTime() {
        String user = "outbox-" + UUID.randomUUID();
        stack.connect().addAgent(stack.instanceId(), user, user, "Outbox", "Agent", "rp-sales", "Available");
        ApiClient.Session session = api.open(DemoInstance.instanceArn(stack.instanceId()) + "/agent/" + user);
        stack.events().refuse(true);

        assertThat(api.close(session).text("offline")).as("the Offline itself does not depend on EventBridge").isEqualTo("done");

        assertThat(stack.events().events("Agent Set Offline", "userId", user)).isEmpty();
        List<Map<String, AttributeValue>> kept = kept();
        assertThat(kept).singleElement().satisfies(item -> {
            assertThat(item.get("detailType").s()).isEqualTo("Agent Set Offline");
            assertThat(item.get("detail").s()).contains(user);
        });
        Instant happened = Instant.ofEpochMilli(Long.parseLong(kept.getFirst().get("eventTime").n()));

        ReconcilerWiring.reconciler(stack.config(), stack.reconcilerClients(), Clock.systemUTC(), wake -> { },
                ReconcilerMetrics.NONE).sweepOnce();
        assertThat(stack.events().events("Agent Set Offline", "userId", user)).as("still refused: still kept").isEmpty();
        assertThat(kept()).hasSize(1);

        stack.events().refuse(false);
        ReconcilerWiring.reconciler(stack.config(), stack.reconcilerClients(), Clock.systemUTC(), wake -> { },
                ReconcilerMetrics.NONE).sweepOnce();

        await().atMost(Waits.PROMPT).untilAsserted(() ->
                assertThat(stack.events().events("Agent Set Offline", "userId", user)).singleElement().satisfies((JsonNode e) -> {
                    assertThat(Instant.parse(e.path("time").asText())).as("the time it happened, not the time it was sent").isEqualTo(happened);
                    assertThat(e.path("detail").path("sessionId").asText()).isEqualTo(session.id());
                }));
        assertThat(kept()).as("forgotten once published").isEmpty();
    }
}

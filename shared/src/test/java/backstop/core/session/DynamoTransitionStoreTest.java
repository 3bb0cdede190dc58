package backstop.core.session;

import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;

import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The transition store's answers moto does not stage: a due count over several pages, and a claim refused for
 * an item that is not there. The store tier (local/.../DynamoStoresTest) runs the rest against moto.
 */
class DynamoTransitionStoreTest {
    private final ScriptedDynamo dynamo = new ScriptedDynamo();
    private final DynamoTransitionStore store = new DynamoTransitionStore(dynamo, "backstop");

    @Test
    void countDueTransitions_should_addUpEveryPageOfEveryShard_onceEach() {
        dynamo.queryAnswer = request -> {
            boolean firstPage = request.exclusiveStartKey().isEmpty();
            QueryResponse.Builder page = QueryResponse.builder().count(firstPage ? 3 : 2);
            // Each shard's count comes in two pages (DynamoDB counts 1 MB of index at a time).
            return (firstPage ? page.lastEvaluatedKey(Map.of("k", AttributeValue.fromS("next"))) : page).build();
        };

        long count = store.countDueTransitions(Instant.parse("2026-11-29T12:00:00Z"));

        assertThat(count).isEqualTo(TableLayout.SHARDS * 5L);
        assertThat(dynamo.queries).hasSize(TableLayout.SHARDS * 2);
        assertThat(dynamo.queries.stream().map(q -> q.expressionAttributeValues().get(":shard").s()).distinct())
                .hasSize(TableLayout.SHARDS).allSatisfy(shard -> assertThat(shard).matches("DUE#\\d+"));
    }

    @Test
    void claim_should_beRefused_when_theTransitionIsNotThere() {
        dynamo.updateAnswer = ConditionalCheckFailedException.builder().message("The conditional request failed").build();
        assertThat(store.claim(new SessionId("0123456789abcdefghijkl"), "claim-1", Instant.EPOCH, Instant.EPOCH.plusSeconds(30))).isEmpty();
    }
}

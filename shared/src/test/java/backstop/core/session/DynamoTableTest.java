package backstop.core.session;

import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BatchGetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.KeysAndAttributes;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The table's paging, batching and retry rules against DynamoDB's answers as the service gives them (pages with a
 * LastEvaluatedKey, UnprocessedKeys, TransactionConflict cancellations), which moto does not stage on demand. The
 * store tier (local/.../DynamoStoresTest) runs the same code through the SDK against moto.
 */
class DynamoTableTest {
    private static final Function<Map<String, AttributeValue>, String> ID = item -> item.get("id").s();

    private static Map<String, AttributeValue> item(int n) {
        return Map.of("id", AttributeValue.fromS("i" + n));
    }

    private final ScriptedDynamo dynamo = new ScriptedDynamo();
    private final DynamoTable table = new DynamoTable(dynamo, "backstop");

    private static QueryResponse page(int from, int to, boolean more) {
        QueryResponse.Builder page = QueryResponse.builder().items(IntStream.range(from, to).mapToObj(DynamoTableTest::item).toList());
        return (more ? page.lastEvaluatedKey(item(to - 1)) : page).build();
    }

    @Test
    void query_should_followThePages_untilTheLimit_andCutTheLastPageToIt() {
        dynamo.pages.addAll(List.of(page(0, 3, true), page(3, 6, true), page(6, 9, true)));

        List<String> found = table.query("byShard", "k = :shard", Map.of(), 5, ID);

        assertThat(found).containsExactly("i0", "i1", "i2", "i3", "i4");
        assertThat(dynamo.queries).hasSize(2);
        assertThat(dynamo.queries.getFirst().limit()).isEqualTo(5);
        assertThat(dynamo.queries.getFirst().exclusiveStartKey()).isEmpty();
        assertThat(dynamo.queries.get(1).exclusiveStartKey()).as("the next page starts after the last").isEqualTo(item(2));
        assertThat(dynamo.queries.getFirst().tableName()).isEqualTo("backstop");
        assertThat(dynamo.queries.getFirst().indexName()).isEqualTo("byShard");
    }

    @Test
    void query_should_readEveryPage_forNoLimit_andAskAtMost500AnItemPage() {
        dynamo.pages.addAll(List.of(page(0, 2, true), page(2, 4, true), page(4, 5, false)));
        assertThat(table.query("byShard", "k = :shard", Map.of(), Integer.MAX_VALUE, ID)).hasSize(5);
        assertThat(dynamo.queries).hasSize(3).allSatisfy(q -> assertThat(q.limit()).as("DynamoDB's own page size").isNull());

        dynamo.queries.clear();
        dynamo.pages.add(page(0, 1, false));
        table.query("byShard", "k = :shard", Map.of(), 1000, ID);
        assertThat(dynamo.queries.getFirst().limit()).isEqualTo(500);

        dynamo.queries.clear();
        dynamo.pages.add(QueryResponse.builder().items(item(0)).lastEvaluatedKey(Map.of()).build());
        assertThat(table.query("byShard", "k = :shard", Map.of(), 10, ID)).as("an empty LastEvaluatedKey ends it").hasSize(1);
        assertThat(dynamo.queries).hasSize(1);
    }

    @Test
    void query_should_stopAtExactlyTheLimit_withoutAnotherPage() {
        dynamo.pages.addAll(List.of(page(0, 3, true), page(3, 6, true)));
        assertThat(table.query("byShard", "k = :shard", Map.of(), 3, ID)).hasSize(3);
        assertThat(dynamo.queries).hasSize(1);
    }

    @Test
    void batchGet_should_ask100KeysARequest_andAskAgainForWhatWasLeftUnprocessed() {
        List<Map<String, AttributeValue>> keys = IntStream.range(0, 230).mapToObj(DynamoTableTest::item).toList();
        dynamo.batchGetAnswer = request -> {
            List<Map<String, AttributeValue>> asked = request.requestItems().get("backstop").keys();
            // DynamoDB leaves the last two keys of a request of more than two unprocessed.
            int served = asked.size() > 2 ? asked.size() - 2 : asked.size();
            BatchGetItemResponse.Builder answer = BatchGetItemResponse.builder().responses(Map.of("backstop", asked.subList(0, served)));
            if (served < asked.size()) {
                answer.unprocessedKeys(Map.of("backstop", KeysAndAttributes.builder().keys(asked.subList(served, asked.size())).build()));
            }
            return answer.build();
        };

        List<Map<String, AttributeValue>> found = table.batchGet(keys, true);

        assertThat(found).hasSize(230).containsExactlyInAnyOrderElementsOf(keys);
        assertThat(dynamo.batchGets).extracting(r -> r.requestItems().get("backstop").keys().size()).containsExactly(100, 2, 100, 2, 30, 2);
        assertThat(dynamo.batchGets.getFirst().requestItems().get("backstop").consistentRead()).isTrue();
        assertThat(table.batchGet(List.of(), false)).isEmpty();
        assertThat(dynamo.batchGets).as("no request for no keys").hasSize(6);
    }

    private static TransactionCanceledException cancelled(String... codes) {
        return TransactionCanceledException.builder().message("cancelled")
                .cancellationReasons(java.util.Arrays.stream(codes).map(c -> CancellationReason.builder().code(c).build()).toList()).build();
    }

    @Test
    void transact_should_tryAgain_whileItOnlyConflictsWithAnotherTransaction() {
        List<TransactWriteItem> items = List.of(TransactWriteItem.builder().build());
        dynamo.transactionAnswers.addAll(List.of(cancelled("None", "TransactionConflict"), cancelled("TransactionConflict")));

        table.transact(items);

        assertThat(dynamo.transactions).hasSize(3).allSatisfy(t -> assertThat(t.transactItems()).isEqualTo(items));
    }

    @Test
    void transact_should_giveUpAfterSixRetries_andNotRetryAFailedCondition() {
        for (int i = 0; i < 10; i++) {
            dynamo.transactionAnswers.add(cancelled("TransactionConflict"));
        }
        assertThatThrownBy(() -> table.transact(List.of())).isInstanceOf(TransactionCanceledException.class);
        assertThat(dynamo.transactions).as("the first try and six more").hasSize(DynamoTable.MAX_TRANSACTION_TRIES + 1);

        dynamo.transactions.clear();
        dynamo.transactionAnswers.clear();
        dynamo.transactionAnswers.add(cancelled("ConditionalCheckFailed", "None"));
        assertThatThrownBy(() -> table.transact(List.of())).isInstanceOf(TransactionCanceledException.class);
        assertThat(dynamo.transactions).hasSize(1);
    }

    @Test
    void failed_should_readTheReasonAtTheItemsPosition() {
        List<CancellationReason> reasons = cancelled("None", "ConditionalCheckFailed").cancellationReasons();
        assertThat(DynamoTable.failed(reasons, 1)).isTrue();
        assertThat(DynamoTable.failed(reasons, 0)).isFalse();
        assertThat(DynamoTable.failed(reasons, 2)).as("no reason for that item").isFalse();
        assertThat(DynamoTable.conflict(reasons)).isFalse();
    }

    @Test
    void conditionalUpdate_should_countAWriteOfThisClaimAlreadyThereAsDone_andAnyOtherRefusalAsNot() {
        Map<String, AttributeValue> values = Map.of(":claim", AttributeValue.fromS("claim-1"));
        assertThat(table.conditionalUpdate(item(1), "SET a = :claim", "attribute_exists(id)", values)).isTrue();

        dynamo.updateAnswer = ConditionalCheckFailedException.builder()
                .item(Map.of(TableLayout.WRITTEN_BY, AttributeValue.fromS("claim-1"))).build();
        assertThat(table.conditionalUpdate(item(1), "SET a = :claim", "attribute_exists(id)", values)).as("an SDK retry of a write that landed").isTrue();

        dynamo.updateAnswer = ConditionalCheckFailedException.builder()
                .item(Map.of(TableLayout.WRITTEN_BY, AttributeValue.fromS("claim-2"))).build();
        assertThat(table.conditionalUpdate(item(1), "SET a = :claim", "attribute_exists(id)", values)).isFalse();
        dynamo.updateAnswer = ConditionalCheckFailedException.builder().item(Map.of("id", AttributeValue.fromS("i1"))).build();
        assertThat(table.conditionalUpdate(item(1), "SET a = :claim", "attribute_exists(id)", values)).isFalse();
        dynamo.updateAnswer = ConditionalCheckFailedException.builder().build();
        assertThat(table.conditionalUpdate(item(1), "SET a = :claim", "attribute_exists(id)", values)).as("no item returned").isFalse();
    }
}

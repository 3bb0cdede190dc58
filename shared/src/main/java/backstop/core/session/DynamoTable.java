package backstop.core.session;

import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BatchGetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.DynamoDbException;
import software.amazon.awssdk.services.dynamodb.model.KeysAndAttributes;
import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;
import software.amazon.awssdk.services.dynamodb.model.ReturnValuesOnConditionCheckFailure;
import software.amazon.awssdk.services.dynamodb.model.Select;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;
import software.amazon.awssdk.services.dynamodb.model.Update;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

import static backstop.core.session.ItemMapper.millis;
import static backstop.core.session.ItemMapper.s;
import static backstop.core.session.TableLayout.WRITTEN_BY;

/** The one table ({@link TableLayout}) and the ways both stores write and query it. */
final class DynamoTable {
    static final int MAX_TRANSACTION_TRIES = 6;
    private static final String CONDITIONAL_CHECK_FAILED = "ConditionalCheckFailed";
    /**
     * What DynamoDB answers a Query on an index that an update added and is still filling (a ValidationException,
     * like a malformed request, so the message is what tells them apart).
     */
    static final String BACKFILLING_MESSAGE = "Cannot read from backfilling global secondary index";

    final DynamoDbClient dynamoDb;
    final String name;

    DynamoTable(DynamoDbClient dynamoDb, String name) {
        this.dynamoDb = dynamoDb;
        this.name = name;
    }

    /** Up to {@code limit} items of one shard of a sparse index, page by page. */
    <T> List<T> queryShard(String index, String keyCondition, String shard, Instant at, int limit,
                           Function<Map<String, AttributeValue>, T> mapper) {
        return query(index, keyCondition, Map.of(":shard", s(shard), ":at", millis(at)), limit, mapper);
    }

    /** Up to {@code limit} items an index query matches (Integer.MAX_VALUE: all of them), page by page. */
    <T> List<T> query(String index, String keyCondition, Map<String, AttributeValue> values, int limit,
                      Function<Map<String, AttributeValue>, T> mapper) {
        List<T> found = new ArrayList<>();
        Map<String, AttributeValue> start = null;
        do {
            Map<String, AttributeValue> exclusiveStart = start;
            QueryResponse page = queryPage(index, r -> r.keyConditionExpression(keyCondition)
                    .expressionAttributeValues(values)
                    .limit(limit == Integer.MAX_VALUE ? null : Math.min(limit, 500)).exclusiveStartKey(exclusiveStart));
            page.items().forEach(item -> found.add(mapper.apply(item)));
            start = next(page);
        } while (start != null && found.size() < limit);
        return found.size() > limit ? found.subList(0, limit) : found;
    }

    /** Every item an index query matches, handed to {@code each} a page at a time: nothing is held past its page. */
    void forEach(String index, String keyCondition, Map<String, AttributeValue> values, Consumer<Map<String, AttributeValue>> each) {
        Map<String, AttributeValue> start = null;
        do {
            Map<String, AttributeValue> exclusiveStart = start;
            QueryResponse page = queryPage(index, r -> r.keyConditionExpression(keyCondition).expressionAttributeValues(values)
                    .exclusiveStartKey(exclusiveStart));
            page.items().forEach(each);
            start = next(page);
        } while (start != null);
    }

    /** How many items an index query matches, page by page (DynamoDB counts 1 MB of index a page). */
    long count(String index, String keyCondition, Map<String, AttributeValue> values) {
        long count = 0;
        Map<String, AttributeValue> start = null;
        do {
            Map<String, AttributeValue> exclusiveStart = start;
            QueryResponse page = queryPage(index, r -> r.keyConditionExpression(keyCondition).expressionAttributeValues(values)
                    .select(Select.COUNT).exclusiveStartKey(exclusiveStart));
            count += page.count();
            start = next(page);
        } while (start != null);
        return count;
    }

    private static Map<String, AttributeValue> next(QueryResponse page) {
        return page.hasLastEvaluatedKey() && !page.lastEvaluatedKey().isEmpty() ? page.lastEvaluatedKey() : null;
    }

    /** One page of an index query; an index still backfilling is {@link IndexBackfilling}, not an SDK error. */
    private QueryResponse queryPage(String index, Consumer<QueryRequest.Builder> request) {
        try {
            return dynamoDb.query(r -> request.accept(r.tableName(name).indexName(index)));
        } catch (DynamoDbException e) {
            if (backfilling(e)) {
                throw new IndexBackfilling(index, e);
            }
            throw e;
        }
    }

    /**
     * DynamoDB's answer for an index still backfilling: that error code and that message, as is or followed by
     * {@code ": <index name>"} (the form seen from the service: "Cannot read from backfilling global secondary
     * index: key-index"). Anything else stays a failure (a reworded answer fails the run loudly, as before, rather
     * than skipping a sweep unseen).
     */
    static boolean backfilling(DynamoDbException e) {
        AwsErrorDetails details = e.awsErrorDetails();
        String message = details == null ? null : details.errorMessage();
        return message != null && "ValidationException".equals(details.errorCode())
                && (message.equals(BACKFILLING_MESSAGE) || message.startsWith(BACKFILLING_MESSAGE + ": "));
    }

    /** Items by key, 100 keys a BatchGetItem (its limit), asking again for what DynamoDB left unprocessed. */
    List<Map<String, AttributeValue>> batchGet(List<Map<String, AttributeValue>> keys, boolean consistent) {
        List<Map<String, AttributeValue>> found = new ArrayList<>();
        for (int from = 0; from < keys.size(); from += 100) {
            Map<String, KeysAndAttributes> request = Map.of(name, KeysAndAttributes.builder()
                    .keys(keys.subList(from, Math.min(keys.size(), from + 100))).consistentRead(consistent).build());
            while (!request.isEmpty()) {
                Map<String, KeysAndAttributes> current = request;
                BatchGetItemResponse response = dynamoDb.batchGetItem(r -> r.requestItems(current));
                found.addAll(response.responses().getOrDefault(name, List.of()));
                request = response.hasUnprocessedKeys() ? response.unprocessedKeys() : Map.of();
            }
        }
        return found;
    }

    /**
     * An update under a claim. When the condition fails because an SDK retry re-sent a write that had already
     * landed (the item says it was written by this claim), that is success too.
     */
    boolean conditionalUpdate(Map<String, AttributeValue> key, String update, String condition,
                              Map<String, AttributeValue> values) {
        try {
            dynamoDb.updateItem(r -> r.tableName(name).key(key).updateExpression(update)
                    .conditionExpression(condition).expressionAttributeValues(values)
                    .returnValuesOnConditionCheckFailure(ReturnValuesOnConditionCheckFailure.ALL_OLD));
            return true;
        } catch (ConditionalCheckFailedException e) {
            AttributeValue writtenBy = e.item() == null ? null : e.item().get(WRITTEN_BY);
            return writtenBy != null && writtenBy.equals(values.get(":claim"));
        }
    }

    /**
     * As {@link #conditionalUpdate(Map, String, String, Map)}, with {@code with} written in the same transaction
     * (both or neither: an outcome and the outbox row of its event). Nothing to add with it: a plain UpdateItem,
     * half the write units. (A retry the SDK makes of a transaction that landed carries the same client request
     * token, so DynamoDB answers it as a success without writing again.)
     */
    boolean conditionalUpdate(Map<String, AttributeValue> key, String update, String condition,
                              Map<String, AttributeValue> values, List<TransactWriteItem> with) {
        if (with.isEmpty()) {
            return conditionalUpdate(key, update, condition, values);
        }
        List<TransactWriteItem> items = new ArrayList<>();
        items.add(TransactWriteItem.builder().update(Update.builder().tableName(name).key(key).updateExpression(update)
                .conditionExpression(condition).expressionAttributeValues(values)
                .returnValuesOnConditionCheckFailure(ReturnValuesOnConditionCheckFailure.ALL_OLD).build()).build());
        items.addAll(with);
        try {
            transact(items);
            return true;
        } catch (TransactionCanceledException e) {
            if (!failed(e.cancellationReasons(), 0)) {
                throw e;
            }
            Map<String, AttributeValue> old = e.cancellationReasons().getFirst().item();
            AttributeValue writtenBy = old == null ? null : old.get(WRITTEN_BY);
            return writtenBy != null && writtenBy.equals(values.get(":claim"));
        }
    }

    /** A transaction, tried again (after a short random pause) while it only conflicts with another one. */
    void transact(List<TransactWriteItem> items) {
        for (int tryNo = 0; ; tryNo++) {
            try {
                dynamoDb.transactWriteItems(r -> r.transactItems(items));
                return;
            } catch (TransactionCanceledException e) {
                if (!conflict(e.cancellationReasons()) || tryNo >= MAX_TRANSACTION_TRIES) {
                    throw e;
                }
                pause(tryNo);
            }
        }
    }

    static boolean failed(List<CancellationReason> reasons, int index) {
        return reasons.size() > index && CONDITIONAL_CHECK_FAILED.equals(reasons.get(index).code());
    }

    static boolean conflict(List<CancellationReason> reasons) {
        return reasons.stream().anyMatch(r -> "TransactionConflict".equals(r.code()));
    }

    static void pause(int tryNo) {
        try {
            Thread.sleep((long) (Math.random() * (10L << Math.min(tryNo, 5))));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}

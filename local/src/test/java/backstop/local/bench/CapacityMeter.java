package backstop.local.bench;

import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttribute;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BatchGetItemRequest;
import software.amazon.awssdk.services.dynamodb.model.BatchWriteItemRequest;
import software.amazon.awssdk.services.dynamodb.model.DeleteItemRequest;
import software.amazon.awssdk.services.dynamodb.model.GetItemRequest;
import software.amazon.awssdk.services.dynamodb.model.PutItemRequest;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;
import software.amazon.awssdk.services.dynamodb.model.TableDescription;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItemsRequest;
import software.amazon.awssdk.services.dynamodb.model.UpdateItemRequest;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * Prices every DynamoDB request a client makes by {@link CapacityRules}, under the operation the benchmark says
 * is running ("heartbeat", "register", ...). Writes are priced from the items before and after, read with a
 * second client this meter does not watch (strongly consistent), so a benchmark must not write the same item from
 * two threads at once (the cost benchmark does not). Benchmarks only.
 */
final class CapacityMeter implements ExecutionInterceptor {
    /** One operation's DynamoDB traffic: requests by API, write units, read units. */
    static final class Tally {
        final Map<String, LongAdder> requests = new ConcurrentHashMap<>();
        final DoubleAdder writeUnits = new DoubleAdder();
        final DoubleAdder readUnits = new DoubleAdder();

        Map<String, Long> requests() {
            Map<String, Long> copy = new TreeMap<>();
            requests.forEach((api, count) -> copy.put(api, count.sum()));
            return copy;
        }
    }

    private record Write(Map<String, AttributeValue> key, Map<String, AttributeValue> before, boolean transactional) {
    }

    private static final ExecutionAttribute<List<Write>> WRITES = new ExecutionAttribute<>("backstop.capacity.writes");

    private final DynamoDbClient reader;
    private final String table;
    private final List<String> tableKeys;
    private final CapacityRules rules;
    private final Supplier<String> operation;
    private final Map<String, Tally> tallies = new ConcurrentHashMap<>();

    /** @param reader a client to the same endpoint without this meter; {@code operation} names what runs now */
    CapacityMeter(DynamoDbClient reader, String table, Supplier<String> operation) {
        this.reader = reader;
        this.table = table;
        this.operation = operation;
        TableDescription description = reader.describeTable(r -> r.tableName(table)).table();
        this.tableKeys = description.keySchema().stream().map(k -> k.attributeName()).toList();
        this.rules = new CapacityRules(tableKeys, description.globalSecondaryIndexes().stream()
                .map(i -> new CapacityRules.Index(i.indexName(), i.keySchema().stream().map(k -> k.attributeName()).toList(),
                        i.projection().projectionTypeAsString(), java.util.Set.copyOf(i.projection().nonKeyAttributes())))
                .toList());
    }

    CapacityRules rules() {
        return rules;
    }

    Tally tally(String operation) {
        return tallies.computeIfAbsent(operation, k -> new Tally());
    }

    Map<String, Tally> tallies() {
        return new TreeMap<>(tallies);
    }

    void reset() {
        tallies.clear();
    }

    @Override
    public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
        List<Write> writes = new ArrayList<>();
        SdkRequest request = context.request();
        switch (request) {
            case PutItemRequest put -> writes.add(write(keyOf(put.item()), false));
            case UpdateItemRequest update -> writes.add(write(update.key(), false));
            case DeleteItemRequest delete -> writes.add(write(delete.key(), false));
            case TransactWriteItemsRequest transaction -> transaction.transactItems().forEach(item -> writes.add(write(keyOf(item), true)));
            case BatchWriteItemRequest batch -> batch.requestItems().getOrDefault(table, List.of()).forEach(w ->
                    writes.add(write(w.putRequest() != null ? keyOf(w.putRequest().item()) : w.deleteRequest().key(), false)));
            default -> { }
        }
        attributes.putAttribute(WRITES, writes);
    }

    @Override
    public void afterExecution(Context.AfterExecution context, ExecutionAttributes attributes) {
        Tally tally = count(context.request());
        for (Write write : attributes.getAttribute(WRITES)) {
            tally.writeUnits.add(rules.writeUnits(write.before(), item(write.key()), write.transactional()));
        }
        switch (context.request()) {
            case GetItemRequest get -> tally.readUnits.add(CapacityRules.readUnits(CapacityRules.size(item(get.key())),
                    Boolean.TRUE.equals(get.consistentRead())));
            case BatchGetItemRequest batch -> batch.requestItems().forEach((name, keys) -> keys.keys().forEach(key ->
                    tally.readUnits.add(CapacityRules.readUnits(CapacityRules.size(item(key)), Boolean.TRUE.equals(keys.consistentRead())))));
            case QueryRequest query -> {
                QueryResponse response = (QueryResponse) context.response();
                long bytes = response.items().stream().mapToLong(CapacityRules::size).sum();
                int returned = response.items().size();
                int scanned = response.scannedCount() == null ? returned : response.scannedCount();
                if (returned > 0 && scanned > returned) {
                    bytes = bytes * scanned / returned; // items a filter dropped were read too
                }
                tally.readUnits.add(CapacityRules.readUnits(bytes, Boolean.TRUE.equals(query.consistentRead())));
            }
            default -> { }
        }
    }

    @Override
    public void onExecutionFailure(Context.FailedExecution context, ExecutionAttributes attributes) {
        // A refused conditional write still costs the write of the item as it was (no index changes).
        Tally tally = count(context.request());
        List<Write> writes = attributes.getAttribute(WRITES);
        if (writes != null) {
            writes.forEach(write -> tally.writeUnits.add(rules.writeUnits(write.before(), write.before(), write.transactional())));
        }
    }

    private Tally count(SdkRequest request) {
        Tally tally = tally(operation.get());
        tally.requests.computeIfAbsent(request.getClass().getSimpleName().replace("Request", ""), k -> new LongAdder()).increment();
        return tally;
    }

    private Write write(Map<String, AttributeValue> key, boolean transactional) {
        return new Write(key, item(key), transactional);
    }

    private Map<String, AttributeValue> keyOf(TransactWriteItem item) {
        if (item.put() != null) {
            return keyOf(item.put().item());
        }
        if (item.update() != null) {
            return item.update().key();
        }
        if (item.delete() != null) {
            return item.delete().key();
        }
        return item.conditionCheck().key();
    }

    private Map<String, AttributeValue> keyOf(Map<String, AttributeValue> item) {
        Map<String, AttributeValue> key = new java.util.HashMap<>();
        tableKeys.forEach(name -> key.put(name, item.get(name)));
        return key;
    }

    private Map<String, AttributeValue> item(Map<String, AttributeValue> key) {
        Map<String, AttributeValue> item = reader.getItem(r -> r.tableName(table).key(key).consistentRead(true)).item();
        return item == null || item.isEmpty() ? null : item;
    }
}

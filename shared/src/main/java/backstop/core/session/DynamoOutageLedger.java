package backstop.core.session;

import backstop.core.events.EventOutbox;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.Put;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static backstop.core.session.ItemMapper.key;
import static backstop.core.session.ItemMapper.millis;

/**
 * {@link OutageLedger} on the one table: a single item ({@value #OUTAGE_PK} / {@value #OUTAGE_SK}), read once a
 * sweep and written when the brake engages or releases, and while a flood lasts (its latest time, at most once a
 * sweep); each write is conditional, so two runs that overlap agree on one start and one end and keep the latest
 * flood.
 */
public final class DynamoOutageLedger implements OutageLedger {
    static final String OUTAGE_PK = "OUTAGE";
    static final String OUTAGE_SK = "HEARTBEATS";
    static final String ENGAGED_AT = "engagedAt";
    static final String RECOVERED_AT = "recoveredAt";
    static final String LAST_FLOOD_AT = "lastFloodAt";
    static final String FLOOD_ONLY = "floodOnly";

    private final DynamoDbClient dynamoDb;
    private final String table;

    public DynamoOutageLedger(DynamoDbClient dynamoDb, String table) {
        this.dynamoDb = dynamoDb;
        this.table = table;
    }

    @Override
    public HeartbeatOutage read() {
        Map<String, AttributeValue> item = dynamoDb.getItem(r -> r.tableName(table).key(key(OUTAGE_PK, OUTAGE_SK))
                .consistentRead(true)).item();
        if (item == null || item.isEmpty()) {
            return HeartbeatOutage.NONE;
        }
        AttributeValue floodOnly = item.get(FLOOD_ONLY);
        return new HeartbeatOutage(instant(item, ENGAGED_AT), instant(item, RECOVERED_AT), instant(item, LAST_FLOOD_AT),
                floodOnly != null && Boolean.TRUE.equals(floodOnly.bool()));
    }

    @Override
    public boolean engage(Instant at, boolean forFlood) {
        return engage(at, forFlood, Optional.empty());
    }

    /** One conditional write; with the event's row, both in one transaction (a plain UpdateItem without one). */
    @Override
    public boolean engage(Instant at, boolean forFlood, Optional<EventOutbox.Kept> event) {
        return new DynamoTable(dynamoDb, table).conditionalUpdate(key(OUTAGE_PK, OUTAGE_SK),
                "SET " + ENGAGED_AT + " = :at, " + FLOOD_ONLY + " = :flood REMOVE " + RECOVERED_AT,
                "attribute_not_exists(" + ENGAGED_AT + ")",
                new HashMap<>(Map.of(":at", millis(at), ":flood", AttributeValue.fromBool(forFlood))), outboxRow(event));
    }

    @Override
    public boolean recover(Instant engagedAt, Instant recoveredAt) {
        return recover(engagedAt, recoveredAt, Optional.empty());
    }

    @Override
    public boolean recover(Instant engagedAt, Instant recoveredAt, Optional<EventOutbox.Kept> event) {
        return new DynamoTable(dynamoDb, table).conditionalUpdate(key(OUTAGE_PK, OUTAGE_SK),
                "SET " + RECOVERED_AT + " = :recovered REMOVE " + ENGAGED_AT + ", " + FLOOD_ONLY,
                ENGAGED_AT + " = :engaged",
                new HashMap<>(Map.of(":recovered", millis(recoveredAt), ":engaged", millis(engagedAt))), outboxRow(event));
    }

    private List<TransactWriteItem> outboxRow(Optional<EventOutbox.Kept> event) {
        return event.map(kept -> TransactWriteItem.builder().put(Put.builder().tableName(table)
                .item(DynamoEventOutbox.item(kept)).build()).build()).stream().toList();
    }

    @Override
    public void floodSeen(Instant at) {
        try {
            dynamoDb.updateItem(r -> r.tableName(table).key(key(OUTAGE_PK, OUTAGE_SK))
                    .updateExpression("SET " + LAST_FLOOD_AT + " = :at")
                    .conditionExpression("attribute_not_exists(" + LAST_FLOOD_AT + ") OR " + LAST_FLOOD_AT + " < :at")
                    .expressionAttributeValues(Map.of(":at", millis(at))));
        } catch (ConditionalCheckFailedException laterOnRecord) {
            // another run recorded a later flood: keep it
        }
    }

    @Override
    public void silenceSeen(Instant engagedAt) {
        try {
            dynamoDb.updateItem(r -> r.tableName(table).key(key(OUTAGE_PK, OUTAGE_SK))
                    .updateExpression("SET " + FLOOD_ONLY + " = :no")
                    .conditionExpression(ENGAGED_AT + " = :engaged AND " + FLOOD_ONLY + " = :yes")
                    .expressionAttributeValues(Map.of(":engaged", millis(engagedAt), ":no", AttributeValue.fromBool(false),
                            ":yes", AttributeValue.fromBool(true))));
        } catch (ConditionalCheckFailedException notThisOrNotFloodOnly) {
            // another outage, or known already
        }
    }

    private static Optional<Instant> instant(Map<String, AttributeValue> item, String name) {
        AttributeValue value = item.get(name);
        return value == null || value.n() == null ? Optional.empty() : Optional.of(Instant.ofEpochMilli(Long.parseLong(value.n())));
    }
}

package backstop.core.session;

import backstop.core.events.EventOutbox;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequestEntry;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static backstop.core.session.ItemMapper.key;
import static backstop.core.session.ItemMapper.millis;
import static backstop.core.session.ItemMapper.s;
import static backstop.core.session.TableLayout.PK;
import static backstop.core.session.TableLayout.SK;

/**
 * {@link EventOutbox} on the one table: one item per kept event in a single partition ({@value #OUTBOX_PK}),
 * sorted by the event's time, so the oldest come first. No TTL: a kept event stays until it is published.
 * (A single partition is enough: a transition's row lives from its outcome to its publish, a fraction of a second,
 * and events come at most at Connect's PutUserStatus rate, tens a second, two or three write units each, far
 * under a partition's 1,000 a second; the relay reads it once a sweep.)
 */
public final class DynamoEventOutbox implements EventOutbox {
    static final String OUTBOX_PK = "OUTBOX";
    static final String SOURCE = "eventSource";
    static final String DETAIL_TYPE = "detailType";
    static final String DETAIL = "detail";
    static final String EVENT_TIME = "eventTime";
    static final String EVENT_BUS = "eventBus";

    private final DynamoDbClient dynamoDb;
    private final String table;

    public DynamoEventOutbox(DynamoDbClient dynamoDb, String table) {
        this.dynamoDb = dynamoDb;
        this.table = table;
    }

    @Override
    public void keep(List<PutEventsRequestEntry> entries) {
        for (PutEventsRequestEntry entry : entries) {
            dynamoDb.putItem(r -> r.tableName(table).item(item(row(entry))));
        }
    }

    @Override
    public Kept row(PutEventsRequestEntry entry) {
        return new Kept(sortKey(entry), entry);
    }

    /** The item of a kept event (written alone by {@link #keep}, or in the transaction of its outcome). */
    static Map<String, AttributeValue> item(Kept kept) {
        PutEventsRequestEntry entry = kept.entry();
        Map<String, AttributeValue> item = new HashMap<>(key(OUTBOX_PK, kept.key()));
        item.put(SOURCE, s(entry.source()));
        item.put(DETAIL_TYPE, s(entry.detailType()));
        item.put(DETAIL, s(entry.detail()));
        item.put(EVENT_TIME, millis(entry.time()));
        item.put(EVENT_BUS, s(entry.eventBusName()));
        return item;
    }

    @Override
    public List<Kept> oldest(int limit, Instant before) {
        return dynamoDb.query(r -> r.tableName(table).keyConditionExpression(PK + " = :pk AND " + SK + " < :before")
                        .expressionAttributeValues(Map.of(":pk", s(OUTBOX_PK), ":before", s(timePrefix(before))))
                        .limit(limit).consistentRead(true))
                .items().stream()
                .map(item -> new Kept(item.get(SK).s(), PutEventsRequestEntry.builder()
                        .source(item.get(SOURCE).s()).detailType(item.get(DETAIL_TYPE).s()).detail(item.get(DETAIL).s())
                        .time(Instant.ofEpochMilli(Long.parseLong(item.get(EVENT_TIME).n())))
                        .eventBusName(item.get(EVENT_BUS).s()).build()))
                .toList();
    }

    @Override
    public void sent(Kept kept) {
        dynamoDb.deleteItem(r -> r.tableName(table).key(key(OUTBOX_PK, kept.key())));
    }

    /** The event's time, then a digest of what it says (its eventId included): the same event kept twice is one item. */
    static String sortKey(PutEventsRequestEntry entry) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest((entry.detailType() + "\n" + entry.detail()).getBytes(StandardCharsets.UTF_8));
            return timePrefix(entry.time()) + "#" + HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Epoch milliseconds in 13 digits: sort keys compare as the times do. */
    private static String timePrefix(Instant at) {
        return String.format("%013d", at.toEpochMilli());
    }
}

package backstop.core.session;

import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

import static backstop.core.session.ItemMapper.key;
import static backstop.core.session.ItemMapper.n;
import static backstop.core.session.ItemMapper.s;
import static backstop.core.session.TableLayout.EXPIRES_AT;
import static backstop.core.session.TableLayout.PK;
import static backstop.core.session.TableLayout.SK;

/**
 * {@link RefusedHeartbeats} on the one table: an item a window ({@value #PK_VALUE} / {@code REFUSED#<start millis>},
 * zero-padded so windows sort by time), each container adding its count once the window is over (one write a
 * window a container, and only for windows that saw a refusal); read with one Query. Items expire after a day.
 */
public final class DynamoRefusedHeartbeats implements RefusedHeartbeats {
    static final String PK_VALUE = DynamoOutageLedger.OUTAGE_PK;
    static final String SK_PREFIX = "REFUSED#";
    static final String REFUSED = "refused";
    static final String REQUESTS = "requests";
    static final Duration KEEP = Duration.ofDays(1);

    private final DynamoDbClient dynamoDb;
    private final String table;

    public DynamoRefusedHeartbeats(DynamoDbClient dynamoDb, String table) {
        this.dynamoDb = dynamoDb;
        this.table = table;
    }

    @Override
    public void add(Instant windowStart, Window counts) {
        dynamoDb.updateItem(r -> r.tableName(table).key(key(PK_VALUE, sortKey(windowStart)))
                .updateExpression("ADD " + REFUSED + " :refused, " + REQUESTS + " :requests SET " + EXPIRES_AT + " = :exp")
                .expressionAttributeValues(Map.of(":refused", n(counts.refused()), ":requests", n(counts.requests()),
                        ":exp", n(windowStart.plus(KEEP).getEpochSecond()))));
    }

    @Override
    public NavigableMap<Instant, Window> since(Instant from) {
        NavigableMap<Instant, Window> counts = new TreeMap<>();
        // A few windows a minute at most, each a few bytes: one page.
        dynamoDb.queryPaginator(r -> r.tableName(table).keyConditionExpression(PK + " = :pk AND " + SK + " BETWEEN :from AND :to")
                .expressionAttributeValues(Map.of(":pk", s(PK_VALUE), ":from", s(sortKey(from)), ":to", s(SK_PREFIX + "~"))))
                .items().forEach(item -> counts.put(windowStart(item.get(SK)), new Window(number(item, REFUSED), number(item, REQUESTS))));
        return counts;
    }

    private static long number(Map<String, AttributeValue> item, String name) {
        AttributeValue value = item.get(name);
        return value == null ? 0 : Long.parseLong(value.n());
    }

    static String sortKey(Instant windowStart) {
        return SK_PREFIX + String.format("%015d", windowStart.toEpochMilli());
    }

    private static Instant windowStart(AttributeValue sortKey) {
        return Instant.ofEpochMilli(Long.parseLong(sortKey.s().substring(SK_PREFIX.length())));
    }
}

package backstop.core.session;

import backstop.core.connect.ConnectBudget;
import backstop.core.connect.ConnectPacer;
import backstop.core.connect.TokenBucket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.ReturnValue;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import static backstop.core.session.ItemMapper.key;
import static backstop.core.session.ItemMapper.n;

/**
 * One Connect budget for every container of the stack (beacons and reconciler), on the table: an item an operation
 * ({@value #PK_VALUE} / the operation's name) holding the next free turn, handed out in order by a conditional
 * update (the generic cell rate algorithm: each turn moves the item {@code 1/rate} on, and a turn may come up to
 * {@code burst - 1} intervals early). One UpdateItem a turn when the budget is busy; an idle budget costs a read and
 * a write. A caller learns when its turn is and sleeps until then, so turns are never spent on a retry; a turn taken
 * by a container that then dies is simply unused. Turns are timed on the wall clock of each container (Lambda's
 * clocks are NTP-synchronised, within milliseconds), not on the service's clock, which tests move.
 */
public final class DynamoConnectBudget implements ConnectBudget {
    private static final Logger LOG = LoggerFactory.getLogger(DynamoConnectBudget.class);
    static final String PK_VALUE = "CONNECT_BUDGET";
    /** The next free turn, epoch milliseconds ("theoretical arrival time"). */
    static final String NEXT_TURN = "nextTurnAt";
    /** A few conditional updates lost to other containers at the same moment, then the caller gives up its turn. */
    private static final int MAX_RACES = 8;
    private static final Duration FOREVER = Duration.ofHours(1);

    private final DynamoDbClient dynamoDb;
    private final String table;
    private final long intervalMillis;
    private final long earlyMillis;
    private final LongSupplier wallMillis;
    private final TokenBucket.Sleeper sleeper;

    public DynamoConnectBudget(DynamoDbClient dynamoDb, String table, double ratePerSecond) {
        this(dynamoDb, table, ratePerSecond, System::currentTimeMillis, TokenBucket.Sleeper.REAL);
    }

    public DynamoConnectBudget(DynamoDbClient dynamoDb, String table, double ratePerSecond, LongSupplier wallMillis,
                               TokenBucket.Sleeper sleeper) {
        if (!(ratePerSecond > 0)) {
            throw new IllegalArgumentException("rate must be > 0, got " + ratePerSecond);
        }
        this.dynamoDb = dynamoDb;
        this.table = table;
        this.intervalMillis = (long) Math.ceil(1000 / ratePerSecond);
        // The same burst as one process's pacer: Connect's less a tenth, room for calls that arrive bunched up.
        this.earlyMillis = (ConnectPacer.burstFor(ratePerSecond) - 1) * intervalMillis;
        this.wallMillis = wallMillis;
        this.sleeper = sleeper;
    }

    @Override
    public boolean acquireWithin(String operation, Duration maxWait) throws InterruptedException {
        if (maxWait.isNegative()) {
            return false;
        }
        long turn;
        try {
            turn = reserve(operation, maxWait.toMillis());
        } catch (SdkException e) {
            // No budget to ask: the caller does without the call (the beacon hands the work to the reconciler).
            LOG.warn("the shared Connect budget could not be read ({}); no turn for {}", e.getClass().getSimpleName(), operation);
            return false;
        }
        if (turn < 0) {
            return false;
        }
        long wait = turn - wallMillis.getAsLong();
        if (wait > 0) {
            sleeper.sleep(TimeUnit.MILLISECONDS.toNanos(wait));
        }
        return true;
    }

    @Override
    public void acquire(String operation) throws InterruptedException {
        while (!acquireWithin(operation, FOREVER)) {
            sleeper.sleep(TimeUnit.MILLISECONDS.toNanos(intervalMillis));
        }
    }

    /** When this caller's turn is (epoch millis), or -1 when it would come after {@code maxWaitMillis}. */
    private long reserve(String operation, long maxWaitMillis) {
        Map<String, AttributeValue> key = key(PK_VALUE, operation);
        for (int race = 0; race < MAX_RACES; race++) {
            long now = wallMillis.getAsLong();
            // Busy: the next turn is now or later; take it if it is within the wait, and move it on by one interval.
            try {
                Map<String, AttributeValue> after = dynamoDb.updateItem(r -> r.tableName(table).key(key)
                        .updateExpression("SET " + NEXT_TURN + " = " + NEXT_TURN + " + :i")
                        .conditionExpression(NEXT_TURN + " >= :now AND " + NEXT_TURN + " <= :latest")
                        .expressionAttributeValues(Map.of(":i", n(intervalMillis), ":now", n(now),
                                ":latest", n(now + earlyMillis + maxWaitMillis)))
                        .returnValues(ReturnValue.UPDATED_NEW)).attributes();
                long taken = Long.parseLong(after.get(NEXT_TURN).n()) - intervalMillis;
                return Math.max(now, taken - earlyMillis);
            } catch (ConditionalCheckFailedException busyOrIdle) {
                // either the next turn is past (idle budget) or beyond the wait: read which
            }
            AttributeValue next = dynamoDb.getItem(r -> r.tableName(table).key(key).consistentRead(true)
                    .projectionExpression(NEXT_TURN)).item().get(NEXT_TURN);
            if (next != null && Long.parseLong(next.n()) > now + earlyMillis + maxWaitMillis) {
                return -1;
            }
            if (next != null && Long.parseLong(next.n()) >= now) {
                continue; // another caller moved it since: take the busy path again
            }
            // Idle: the turn is now, the next one an interval on (unless another caller got here first).
            try {
                dynamoDb.updateItem(r -> r.tableName(table).key(key)
                        .updateExpression("SET " + NEXT_TURN + " = :next")
                        .conditionExpression("attribute_not_exists(" + NEXT_TURN + ") OR " + NEXT_TURN + " < :now")
                        .expressionAttributeValues(Map.of(":next", n(now + intervalMillis), ":now", n(now))));
                return now;
            } catch (ConditionalCheckFailedException raced) {
                // another caller took the idle turn: try the busy path
            }
        }
        return -1;
    }
}

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
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import static backstop.core.session.ItemMapper.key;
import static backstop.core.session.ItemMapper.n;

/**
 * One Connect budget for every container of the stack (beacons and reconciler), on the table: an item an operation
 * ({@value #PK_VALUE}{@code #<operation>} / the operation's name) holding the next free turn, handed out in order by a conditional
 * update (the generic cell rate algorithm: each turn moves the item {@code 1/rate} on, and a turn may come up to
 * {@code burst - 1} intervals early). One UpdateItem a turn when the budget is busy; an idle budget costs a read and
 * a write. A caller learns when its turn is and sleeps until then, so turns are never spent on a retry; a turn taken
 * by a container that then dies is simply unused. Turns are timed on the wall clock of each container (Lambda's
 * clocks are NTP-synchronised, within milliseconds), not on the service's clock, which tests move.
 * <p>
 * Worst day (17:00, 100,000 agents): most asks are futile (1.5 turns/s for hundreds of closes a second). Each
 * operation's item has a partition key of its own ({@code CONNECT_BUDGET#<operation>}), and a container that saw
 * the next turn beyond its wait remembers it (the next turn only moves on) and refuses later asks without asking
 * DynamoDB until that could have changed, so the futile asks stay in the container. If the budget cannot be read at
 * all (DynamoDB throttling the item, an outage), a beacon does without the call (it hands the transition over) and
 * the reconciler, then the only caller, paces itself with its own pacer ({@code whenUnreachable}): its sweeps never
 * wait on a budget that does not answer.
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
    private final Optional<ConnectBudget> whenUnreachable;
    /** Per operation, the latest next turn this container saw: it never moves back while the budget is busy. */
    private final Map<String, Long> nextSeen = new ConcurrentHashMap<>();

    /** A beacon's budget: when the budget cannot be read, no turn (the beacon hands the work over). */
    public DynamoConnectBudget(DynamoDbClient dynamoDb, String table, double ratePerSecond) {
        this(dynamoDb, table, ratePerSecond, System::currentTimeMillis, TokenBucket.Sleeper.REAL, Optional.empty());
    }

    /** The reconciler's: when the budget cannot be read, its own pacer at the same rate decides. */
    public static DynamoConnectBudget withLocalFallback(DynamoDbClient dynamoDb, String table, double ratePerSecond) {
        return new DynamoConnectBudget(dynamoDb, table, ratePerSecond, System::currentTimeMillis, TokenBucket.Sleeper.REAL,
                Optional.of(new ConnectPacer(ratePerSecond)));
    }

    public DynamoConnectBudget(DynamoDbClient dynamoDb, String table, double ratePerSecond, LongSupplier wallMillis,
                               TokenBucket.Sleeper sleeper) {
        this(dynamoDb, table, ratePerSecond, wallMillis, sleeper, Optional.empty());
    }

    public DynamoConnectBudget(DynamoDbClient dynamoDb, String table, double ratePerSecond, LongSupplier wallMillis,
                               TokenBucket.Sleeper sleeper, Optional<ConnectBudget> whenUnreachable) {
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
        this.whenUnreachable = whenUnreachable;
    }

    @Override
    public boolean acquireWithin(String operation, Duration maxWait) throws InterruptedException {
        try {
            return take(operation, maxWait);
        } catch (SdkException e) {
            // No budget to ask: the caller does without the call (the beacon hands the work to the reconciler).
            LOG.warn("the shared Connect budget could not be read ({}); no turn for {}", e.getClass().getSimpleName(), operation);
            return false;
        }
    }

    /**
     * Waits for a turn however late it is. A budget that cannot be read is not waited on: the reconciler's own
     * pacer decides then, and a beacon gets the failure (its caller treats it as no turn), never an endless loop.
     */
    @Override
    public void acquire(String operation) throws InterruptedException {
        while (!take(operation, FOREVER)) {
            sleeper.sleep(TimeUnit.MILLISECONDS.toNanos(intervalMillis));
        }
    }

    /** @throws SdkException when the budget cannot be read and there is no pacer to fall back on */
    private boolean take(String operation, Duration maxWait) throws InterruptedException {
        if (maxWait.isNegative()) {
            return false;
        }
        Long seen = nextSeen.get(operation);
        if (seen != null && seen > wallMillis.getAsLong() + earlyMillis + maxWait.toMillis()) {
            return false; // the next turn is at least that late: asking DynamoDB again would only say so
        }
        long turn;
        try {
            turn = reserve(operation, maxWait.toMillis());
        } catch (SdkException e) {
            if (whenUnreachable.isEmpty()) {
                throw e;
            }
            LOG.warn("the shared Connect budget could not be read ({}); {} paced by this container alone",
                    e.getClass().getSimpleName(), operation);
            return whenUnreachable.get().acquireWithin(operation, maxWait);
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

    /** When this caller's turn is (epoch millis), or -1 when it would come after {@code maxWaitMillis}. */
    private long reserve(String operation, long maxWaitMillis) {
        Map<String, AttributeValue> key = key(PK_VALUE + "#" + operation, operation);
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
                nextSeen.merge(operation, Long.parseLong(next.n()), Math::max);
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

package backstop.local.store;

import backstop.core.connect.TokenBucket;
import backstop.core.session.DynamoConnectBudget;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The stack's one Connect budget on the template's table, through the real SDK: several containers draw turns from
 * it in order, together at the configured rate (burst as one process's pacer), a turn that would come after the
 * caller's wait is refused without being spent, and each operation has its own budget (Connect's quotas are per API).
 */
class ConnectBudgetStoreTest {
    static DynamoDbClient dynamoDb;
    static String table;

    @BeforeAll
    static void start() {
        dynamoDb = StoreTables.client();
        table = StoreTables.create(dynamoDb, "budget");
    }

    @AfterAll
    static void stop() {
        dynamoDb.deleteTable(r -> r.tableName(table));
        dynamoDb.close();
    }

    /** A wall clock that only moves when a caller sleeps until its turn. */
    static final class Wall {
        final AtomicLong millis = new AtomicLong(1_800_000_000_000L);
        final TokenBucket.Sleeper sleeper = nanos -> millis.addAndGet(TimeUnit.NANOSECONDS.toMillis(nanos));
    }

    @Test
    void turns_should_beHandedOutInOrderAcrossContainers_atTheRate_afterTheBurst() throws Exception {
        Wall wall = new Wall();
        long start = wall.millis.get();
        // 1.5/s: a turn every 667 ms, a burst of 2 (Connect's 3 less a tenth, at least one), as ConnectPacer.
        DynamoConnectBudget one = new DynamoConnectBudget(dynamoDb, table, 1.5, wall.millis::get, wall.sleeper);
        DynamoConnectBudget other = new DynamoConnectBudget(dynamoDb, table, 1.5, wall.millis::get, wall.sleeper);
        List<Long> turns = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            assertThat((i % 2 == 0 ? one : other).acquireWithin("PutUserStatus", Duration.ofSeconds(10))).isTrue();
            turns.add(wall.millis.get() - start);
        }

        assertThat(turns).containsExactly(0L, 0L, 667L, 1334L, 2001L, 2668L);
    }

    @Test
    void aTurn_should_beRefusedUnspent_when_itComesAfterTheWait_andEachOperationHasItsOwnBudget() throws Exception {
        Wall wall = new Wall();
        DynamoConnectBudget one = new DynamoConnectBudget(dynamoDb, table, 1.5, wall.millis::get, wall.sleeper);
        DynamoConnectBudget other = new DynamoConnectBudget(dynamoDb, table, 1.5, wall.millis::get, wall.sleeper);
        assertThat(one.acquireWithin("DescribeUser", Duration.ZERO)).isTrue();
        assertThat(other.acquireWithin("DescribeUser", Duration.ZERO)).as("the burst's second").isTrue();
        long before = wall.millis.get();

        assertThat(other.acquireWithin("DescribeUser", Duration.ofMillis(600))).as("the next turn is 667 ms away").isFalse();
        assertThat(wall.millis.get()).as("no wait for a refused turn").isEqualTo(before);
        assertThat(one.acquireWithin("GetCurrentUserData", Duration.ZERO)).as("another API's budget").isTrue();
        assertThat(one.acquireWithin("DescribeUser", Duration.ofMillis(700))).as("the refused turn was not spent").isTrue();
        assertThat(wall.millis.get() - before).isEqualTo(667L);
    }

    /** The real client, counting the calls made through it (or failing each, as a throttled partition would). */
    static DynamoDbClient counting(DynamoDbClient real, java.util.concurrent.atomic.AtomicInteger calls, boolean throttled) {
        return (DynamoDbClient) java.lang.reflect.Proxy.newProxyInstance(DynamoDbClient.class.getClassLoader(),
                new Class<?>[] {DynamoDbClient.class}, (proxy, method, args) -> {
                    if (method.getDeclaringClass() == Object.class) {
                        return method.invoke(real, args);
                    }
                    calls.incrementAndGet();
                    if (throttled) {
                        throw software.amazon.awssdk.services.dynamodb.model.ProvisionedThroughputExceededException.builder()
                                .message("throughput exceeded on the budget's partition").build();
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    @Test
    void aContainer_should_notAskAgain_whileTheNextTurnItSawIsBeyondItsWait() throws Exception {
        // 17:00: hundreds of closes a second ask for 1.5 turns a second; each futile ask would be a write on one item.
        Wall wall = new Wall();
        java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
        DynamoConnectBudget busy = new DynamoConnectBudget(dynamoDb, table, 1.5, wall.millis::get, nanos -> { }); // books turns ahead
        DynamoConnectBudget surge = new DynamoConnectBudget(counting(dynamoDb, calls, false), table, 1.5, wall.millis::get, wall.sleeper);
        for (int i = 0; i < 8; i++) {
            assertThat(busy.acquireWithin("ListAgentStatuses", Duration.ofSeconds(10))).isTrue(); // the next turn ~5 s away
        }
        assertThat(surge.acquireWithin("ListAgentStatuses", Duration.ofSeconds(1))).isFalse();
        int asked = calls.get();
        for (int i = 0; i < 100; i++) {
            assertThat(surge.acquireWithin("ListAgentStatuses", Duration.ofSeconds(1))).isFalse();
        }
        assertThat(calls.get()).as("the 100 later asks never reach DynamoDB").isEqualTo(asked);
        wall.millis.addAndGet(10_000);
        assertThat(surge.acquireWithin("ListAgentStatuses", Duration.ofSeconds(1))).as("once the turns caught up").isTrue();
    }

    @Test
    void anUnreachableBudget_should_handTheBeaconsWorkOver_butLetTheReconcilerPaceItself() throws Exception {
        Wall wall = new Wall();
        java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
        DynamoDbClient throttled = counting(dynamoDb, calls, true);
        DynamoConnectBudget beacon = new DynamoConnectBudget(throttled, table, 1.5, wall.millis::get, wall.sleeper);
        assertThat(beacon.acquireWithin("PutUserStatus", Duration.ofSeconds(3))).as("no turn: the close hands over").isFalse();

        java.util.concurrent.atomic.AtomicLong nanos = new java.util.concurrent.atomic.AtomicLong();
        backstop.core.connect.ConnectPacer own = new backstop.core.connect.ConnectPacer(1.5, nanos::get, nanos::addAndGet);
        DynamoConnectBudget reconciler = new DynamoConnectBudget(throttled, table, 1.5, wall.millis::get, wall.sleeper,
                java.util.Optional.of(own));
        for (int i = 0; i < 5; i++) {
            reconciler.acquire("PutUserStatus"); // returns: a budget that does not answer never holds the sweeps
        }
        assertThat(nanos.get()).as("paced by its own pacer at the rate: 5 turns, a burst of 2, then 667 ms apart")
                .isBetween(TimeUnit.MILLISECONDS.toNanos(1990), TimeUnit.MILLISECONDS.toNanos(2010));
    }
}

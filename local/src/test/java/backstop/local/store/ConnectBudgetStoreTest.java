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
}

package backstop.local.store;

import backstop.core.session.DynamoOutageLedger;
import backstop.core.session.DynamoRefusedHeartbeats;
import backstop.core.session.HeartbeatOutage;
import backstop.core.session.RefusedHeartbeats.Window;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The refused-heartbeat counts on the template's table, through the real SDK: containers add to one window each,
 * the reconciler reads the windows since a moment in time order, and the counts live beside the outage record
 * without touching it.
 */
class RefusedHeartbeatsStoreTest {
    static DynamoDbClient dynamoDb;
    static String table;

    @BeforeAll
    static void start() {
        dynamoDb = StoreTables.client();
        table = StoreTables.create(dynamoDb, "refused");
    }

    @AfterAll
    static void stop() {
        dynamoDb.deleteTable(r -> r.tableName(table));
        dynamoDb.close();
    }

    @Test
    void counts_should_addUpPerWindowAcrossContainers_andBeReadSinceAMoment_inTimeOrder() {
        DynamoRefusedHeartbeats one = new DynamoRefusedHeartbeats(dynamoDb, table);
        DynamoRefusedHeartbeats other = new DynamoRefusedHeartbeats(dynamoDb, table); // another container
        Instant w1 = Instant.parse("2026-12-02T09:00:00Z");
        Instant w2 = w1.plusSeconds(10);
        Instant w3 = w1.plusSeconds(20);
        Instant ancient = Instant.ofEpochMilli(999); // sorts before, whatever its digits
        one.add(ancient, new Window(7, 7));
        one.add(w2, new Window(600, 640));
        other.add(w2, new Window(450, 470));
        other.add(w1, new Window(3, 90));
        one.add(w3, new Window(1, 1));

        assertThat(one.since(w1)).containsExactly(Map.entry(w1, new Window(3, 90)), Map.entry(w2, new Window(1050, 1110)),
                Map.entry(w3, new Window(1, 1)));
        assertThat(other.since(w2)).containsOnlyKeys(w2, w3);
        assertThat(one.since(w3.plusSeconds(10))).isEmpty();

        DynamoOutageLedger ledger = new DynamoOutageLedger(dynamoDb, table);
        assertThat(ledger.read()).as("the outage record, on the same partition, untouched").isEqualTo(HeartbeatOutage.NONE);
        assertThat(ledger.engage(w3)).isTrue();
        assertThat(one.since(w1)).as("and the record is not a window").hasSize(3);
    }
}

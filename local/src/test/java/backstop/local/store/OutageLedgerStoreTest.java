package backstop.local.store;

import backstop.core.session.DynamoOutageLedger;
import backstop.core.session.HeartbeatOutage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The brake's record of a heartbeat outage on the template's table, through the real SDK: one start, one end, each
 * written once however many runs race for it (conditional writes), and what a new container reads.
 */
class OutageLedgerStoreTest {
    static DynamoDbClient dynamoDb;
    static String table;

    @BeforeAll
    static void start() {
        dynamoDb = StoreTables.client();
        table = StoreTables.create(dynamoDb, "outage");
    }

    @AfterAll
    static void stop() {
        dynamoDb.deleteTable(r -> r.tableName(table));
        dynamoDb.close();
    }

    @Test
    void ledger_should_recordOneStartAndOneEnd_evenWhenTwoRunsRace_andTellANewContainer() {
        DynamoOutageLedger one = new DynamoOutageLedger(dynamoDb, table);
        DynamoOutageLedger other = new DynamoOutageLedger(dynamoDb, table); // another run, another container
        Instant engaged = Instant.parse("2026-12-02T09:00:15Z");
        Instant recovered = Instant.parse("2026-12-02T09:03:00Z");

        assertThat(one.read()).isEqualTo(HeartbeatOutage.NONE);
        assertThat(one.engage(engaged)).isTrue();
        assertThat(other.engage(engaged.plusSeconds(15))).as("a second start of the same outage").isFalse();
        assertThat(other.read()).isEqualTo(HeartbeatOutage.engaged(engaged));

        assertThat(other.recover(engaged.plusSeconds(15), recovered)).as("not the outage on record").isFalse();
        assertThat(one.recover(engaged, recovered)).isTrue();
        assertThat(other.recover(engaged, recovered)).as("ended once").isFalse();
        assertThat(new DynamoOutageLedger(dynamoDb, table).read()).isEqualTo(HeartbeatOutage.recovered(recovered));

        Instant again = recovered.plusSeconds(3600);
        assertThat(other.engage(again)).as("a later outage starts afresh").isTrue();
        assertThat(one.read()).isEqualTo(HeartbeatOutage.engaged(again));
    }

    static backstop.core.events.EventOutbox.Kept row(backstop.core.events.EventOutbox outbox, String detailType, Instant at) {
        return outbox.row(software.amazon.awssdk.services.eventbridge.model.PutEventsRequestEntry.builder().source("ccp-backstop")
                .detailType(detailType).detail("{\"at\":\"" + at + "\"}").time(at).eventBusName("bus").build());
    }

    @Test
    void ledger_should_writeTheOutagesEventRow_inTheSameTransaction_asTheStartOrEndItReports_andOnlyThen() {
        String own = StoreTables.create(dynamoDb, "outbox");
        try {
            DynamoOutageLedger ledger = new DynamoOutageLedger(dynamoDb, own);
            backstop.core.session.DynamoEventOutbox outbox = new backstop.core.session.DynamoEventOutbox(dynamoDb, own);
            Instant engaged = Instant.parse("2026-12-02T09:00:15Z");
            var suspected = row(outbox, "Heartbeat Outage Suspected", engaged);

            assertThat(ledger.engage(engaged, false, java.util.Optional.of(suspected))).isTrue();
            assertThat(outbox.oldest(10, Instant.parse("2100-01-01T00:00:00Z"))).extracting(k -> k.key()).containsExactly(suspected.key());
            assertThat(ledger.engage(engaged.plusSeconds(15), false,
                    java.util.Optional.of(row(outbox, "Heartbeat Outage Suspected", engaged.plusSeconds(15)))))
                    .as("a second start: no start, no event").isFalse();
            assertThat(outbox.oldest(10, Instant.parse("2100-01-01T00:00:00Z"))).hasSize(1);

            var ended = row(outbox, "Heartbeat Outage Ended", engaged.plusSeconds(180));
            assertThat(ledger.recover(engaged, engaged.plusSeconds(170), java.util.Optional.of(ended))).isTrue();
            assertThat(ledger.recover(engaged, engaged.plusSeconds(170),
                    java.util.Optional.of(row(outbox, "Heartbeat Outage Ended", engaged.plusSeconds(190))))).as("ended once").isFalse();
            assertThat(outbox.oldest(10, Instant.parse("2100-01-01T00:00:00Z"))).extracting(k -> k.key()).containsExactlyInAnyOrder(suspected.key(), ended.key());
            assertThat(ledger.read()).isEqualTo(HeartbeatOutage.recovered(engaged.plusSeconds(170)));
        } finally {
            dynamoDb.deleteTable(r -> r.tableName(own));
        }
    }

    @Test
    void ledger_should_keepTheLatestFlood_acrossOutages_andWhetherAnOutageWasAFloodsAlone() {
        String own = StoreTables.create(dynamoDb, "flood");
        try {
            DynamoOutageLedger one = new DynamoOutageLedger(dynamoDb, own);
            DynamoOutageLedger other = new DynamoOutageLedger(dynamoDb, own);
            Instant engaged = Instant.parse("2026-12-02T09:00:15Z");
            one.floodSeen(engaged.minusSeconds(10));
            assertThat(one.engage(engaged, true)).isTrue();
            other.floodSeen(engaged.plusSeconds(60));
            one.floodSeen(engaged.plusSeconds(30)); // a run that saw less: the later flood stays
            HeartbeatOutage read = other.read();
            assertThat(read.lastFloodAt()).contains(engaged.plusSeconds(60));
            assertThat(read.floodOnly()).isTrue();

            one.silenceSeen(engaged.plusSeconds(1)); // not this outage
            assertThat(other.read().floodOnly()).isTrue();
            one.silenceSeen(engaged);
            assertThat(other.read().floodOnly()).as("silence the flood does not explain").isFalse();

            assertThat(other.recover(engaged, engaged.plusSeconds(120))).isTrue();
            HeartbeatOutage after = one.read();
            assertThat(after.recoveredAt()).contains(engaged.plusSeconds(120));
            assertThat(after.lastFloodAt()).as("kept past the outage's end").contains(engaged.plusSeconds(60));
            assertThat(after.floodOnly()).isFalse();
        } finally {
            dynamoDb.deleteTable(r -> r.tableName(own));
        }
    }
}

package backstop.local.store;

import backstop.core.session.DynamoSessionStore;
import backstop.core.session.DynamoTransitionStore;
import backstop.core.session.Exemption;
import backstop.core.session.IndexBackfilling;
import backstop.core.session.NewSession;
import backstop.core.session.SessionId;
import backstop.core.session.SessionToken;
import backstop.core.session.TableLayout;
import backstop.local.AwsCli;
import backstop.local.aws.AwsEmulation;
import backstop.local.aws.TemplateResources;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * An index a deploy added, still backfilling, through the real SDK and the real AWS CLI: moto builds an index at
 * once, so backstop-moto-server.py stages DynamoDB's backfilling phase for one index (DescribeTable CREATING with
 * Backfilling true; every Query on it refused with DynamoDB's ValidationException). What the unit tier cannot
 * show: that the SDK hands the stores that answer with the code and message they recognise, and that README's
 * commands for watching the index say what they claim.
 */
class IndexBackfillingStoreTest {
    static AwsEmulation aws;
    static DynamoDbClient dynamoDb;
    static String table;

    @BeforeAll
    static void start() {
        aws = AwsEmulation.shared();
        assumeTrue(aws.stagesBackfilling(), "only moto through backstop-moto-server.py stages a backfilling index");
        dynamoDb = StoreTables.client();
        table = StoreTables.create(dynamoDb, "backfill");
    }

    @AfterAll
    static void stop() {
        if (dynamoDb != null) {
            dynamoDb.deleteTable(r -> r.tableName(table));
            dynamoDb.close();
        }
    }

    /** README's check: each index's name, status and whether it is backfilling. */
    static List<List<Object>> indexStates() throws Exception {
        String json = AwsCli.run(aws.endpoint(), "dynamodb", "describe-table", "--table-name", table,
                "--query", "Table.GlobalSecondaryIndexes[].[IndexName,IndexStatus,Backfilling]");
        return new ObjectMapper().readerForListOf(List.class).readValue(json);
    }

    /** README's wait condition: how many indexes are not ACTIVE yet. */
    static String notActive() {
        return AwsCli.run(aws.endpoint(), "dynamodb", "describe-table", "--table-name", table,
                "--query", "length(Table.GlobalSecondaryIndexes[?IndexStatus!='ACTIVE'])").strip();
    }

    @Test
    void theOpenIndex_should_beRefusedAsBackfilling_throughTheSdk_whileWritesAndTheDueIndexGoOn_untilItIsActive() throws Exception {
        DynamoSessionStore sessions = new DynamoSessionStore(dynamoDb, table);
        DynamoTransitionStore transitions = new DynamoTransitionStore(dynamoDb, table);
        NewSession registered = new NewSession(SessionId.random(DynamoStoresTest.RANDOM), DynamoStoresTest.newAgent(),
                SessionToken.random(DynamoStoresTest.RANDOM).hash(), DynamoStoresTest.T0, Optional.empty(), Optional.empty(),
                Exemption.NOT_EXEMPT, Optional.empty(), 4);
        int shard = TableLayout.shard(registered.id());

        aws.indexBackfilling(table, TableLayout.OPEN_SESSIONS_INDEX, true);
        try {
            assertThat(indexStates()).containsExactlyInAnyOrder(
                    List.of(TableLayout.OPEN_SESSIONS_INDEX, "CREATING", true),
                    Arrays.asList(TableLayout.DUE_TRANSITIONS_INDEX, "ACTIVE", null));
            assertThat(notActive()).isEqualTo("1");

            IndexBackfilling refused = catchThrowableOfType(IndexBackfilling.class, () -> sessions.openSessionsInShard(shard, Optional.empty()));
            assertThat(refused.index()).isEqualTo(TableLayout.OPEN_SESSIONS_INDEX);
            sessions.createSession(registered); // writes go on while the index fills (DynamoDB indexes them too)
            assertThat(transitions.countDueTransitions(DynamoStoresTest.T0)).as("the other index answers").isZero();
            assertThat(transitions.findDueTransitions(0, DynamoStoresTest.T0, 10)).isEmpty();
        } finally {
            aws.indexBackfilling(table, TableLayout.OPEN_SESSIONS_INDEX, false);
        }

        assertThat(notActive()).isEqualTo("0");
        assertThat(sessions.openSessionsInShard(shard, Optional.empty())).as("the session written meanwhile is listed").contains(registered.id());
    }

    @Test
    void theDueIndex_should_beRefusedAsBackfilling_forTheBacklogCountAndTheDueQuery() {
        DynamoTransitionStore transitions = new DynamoTransitionStore(dynamoDb, table);
        DynamoSessionStore sessions = new DynamoSessionStore(dynamoDb, table);

        aws.indexBackfilling(table, TableLayout.DUE_TRANSITIONS_INDEX, true);
        try {
            assertThat(catchThrowableOfType(IndexBackfilling.class, () -> transitions.countDueTransitions(DynamoStoresTest.T0)).index())
                    .isEqualTo(TableLayout.DUE_TRANSITIONS_INDEX);
            assertThat(catchThrowableOfType(IndexBackfilling.class, () -> transitions.findDueTransitions(3, DynamoStoresTest.T0, 10)).index())
                    .isEqualTo(TableLayout.DUE_TRANSITIONS_INDEX);
            sessions.openSessionsInShard(0, Optional.empty()); // the open index answers
        } finally {
            aws.indexBackfilling(table, TableLayout.DUE_TRANSITIONS_INDEX, false);
        }
        assertThat(transitions.countDueTransitions(DynamoStoresTest.T0)).isZero();
    }
}

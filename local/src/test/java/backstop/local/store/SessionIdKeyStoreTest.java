package backstop.local.store;

import backstop.core.session.SessionId;
import backstop.core.session.SessionIds;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The session-id key on the template's table, through the real SDK: eight containers registering at once make one
 * key between them (conditional put), and an id one issues passes in every other.
 */
class SessionIdKeyStoreTest {
    static DynamoDbClient dynamoDb;
    static String table;

    @BeforeAll
    static void start() {
        dynamoDb = StoreTables.client();
        table = StoreTables.create(dynamoDb, "ids");
    }

    @AfterAll
    static void stop() {
        dynamoDb.deleteTable(r -> r.tableName(table));
        dynamoDb.close();
    }

    @Test
    void containers_should_agreeOnOneKey_evenWhenTheirFirstRegistersRace() throws Exception {
        List<SessionIds> containers = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            containers.add(SessionIds.onTable(dynamoDb, table, new SecureRandom(), Clock.systemUTC()));
        }
        List<Callable<SessionId>> firstRegisters = containers.stream().<Callable<SessionId>>map(ids -> ids::issue).toList();
        List<SessionId> issued = new ArrayList<>();
        try (ExecutorService executor = Executors.newFixedThreadPool(8)) {
            for (Future<SessionId> id : executor.invokeAll(firstRegisters)) {
                issued.add(id.get());
            }
        }
        SessionIds coldStart = SessionIds.onTable(dynamoDb, table, new SecureRandom(), Clock.systemUTC());
        for (SessionId id : issued) {
            assertThat(containers).allSatisfy(ids -> assertThat(ids.mayExist(id)).isTrue());
            assertThat(coldStart.mayExist(id)).as("a container started later reads the same key").isTrue();
        }
        assertThat(dynamoDb.scan(r -> r.tableName(table)).count()).as("one key item").isEqualTo(1);
    }
}

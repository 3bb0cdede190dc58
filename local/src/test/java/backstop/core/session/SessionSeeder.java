package backstop.core.session;

import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.WriteRequest;

import java.util.List;
import java.util.Map;

/**
 * Writes OPEN session items in bulk (BatchWriteItem, 25 a request) for benchmarks that need many live sessions,
 * without the agent items' open-session bookkeeping: a session seeded this way still closes correctly (its agent
 * item "lost track" of it, a case the close already handles). Test code: the functions never bulk-write.
 * (In this package for the item layout, {@link ItemMapper}, which stays package-private.)
 */
public final class SessionSeeder {
    private SessionSeeder() {
    }

    public static void seedOpenSessions(DynamoDbClient dynamoDb, String table, List<NewSession> sessions) {
        seedOpenSessions(dynamoDb, table, sessions, java.util.Optional.empty());
    }

    /** As above, each session last seen at {@code lastSeen} instead of at its creation (a session that keeps beating). */
    public static void seedOpenSessions(DynamoDbClient dynamoDb, String table, List<NewSession> sessions, java.util.Optional<java.time.Instant> lastSeen) {
        for (int from = 0; from < sessions.size(); from += 25) {
            List<WriteRequest> writes = sessions.subList(from, Math.min(sessions.size(), from + 25)).stream()
                    .map(session -> {
                        Map<String, software.amazon.awssdk.services.dynamodb.model.AttributeValue> item = new java.util.HashMap<>(
                                ItemMapper.newSessionItem(session, session.created().plus(DynamoSessionStore.SESSION_RETENTION)));
                        lastSeen.ifPresent(at -> item.put(TableLayout.LAST_SEEN, ItemMapper.millis(at)));
                        return WriteRequest.builder().putRequest(p -> p.item(item)).build();
                    })
                    .toList();
            Map<String, List<WriteRequest>> pending = Map.of(table, writes);
            while (!pending.isEmpty()) {
                Map<String, List<WriteRequest>> request = pending;
                var response = dynamoDb.batchWriteItem(r -> r.requestItems(request));
                pending = response.unprocessedItems() == null ? Map.of() : response.unprocessedItems();
            }
        }
    }
}

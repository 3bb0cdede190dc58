package backstop.core.session;

import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.DynamoDbException;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * An index a deploy added answers every Query with DynamoDB's backfilling refusal until it is ACTIVE (moto does not
 * stage it on demand). The stores turn exactly that answer into {@link IndexBackfilling} naming the index, for
 * each query on it; the other index still answers; any other refusal stays the SDK's error.
 */
class IndexBackfillingTest {
    static final Instant NOW = Instant.parse("2026-11-29T12:00:00Z");

    final ScriptedDynamo dynamo = new ScriptedDynamo();
    final DynamoSessionStore sessions = new DynamoSessionStore(dynamo, "backstop");
    final DynamoTransitionStore transitions = new DynamoTransitionStore(dynamo, "backstop");

    static DynamoDbException backfillingAnswer() {
        return ScriptedDynamo.serviceError("ValidationException", "Cannot read from backfilling global secondary index");
    }

    /** The index {@code backfilling} refuses with {@code refusal}; every other query finds one item. */
    void refuse(String backfilling, DynamoDbException refusal) {
        dynamo.queryAnswer = request -> {
            if (request.indexName().equals(backfilling)) {
                throw refusal;
            }
            return QueryResponse.builder().count(1).items(List.of(Map.of(
                    TableLayout.PK, AttributeValue.fromS("SESSION#0123456789abcdefghijkl"),
                    TableLayout.SK, AttributeValue.fromS("SESSION")))).build();
        };
    }

    @Test
    void openSessionsInShard_should_sayTheOpenIndexIsBackfilling_while_theDueIndexStillAnswers() {
        refuse(TableLayout.OPEN_SESSIONS_INDEX, backfillingAnswer());

        IndexBackfilling listing = catchThrowableOfType(IndexBackfilling.class, () -> sessions.openSessionsInShard(3, Optional.empty()));
        IndexBackfilling incremental = catchThrowableOfType(IndexBackfilling.class,
                () -> sessions.openSessionsInShard(3, Optional.of(NOW.minusSeconds(60))));

        assertThat(listing.index()).isEqualTo(TableLayout.OPEN_SESSIONS_INDEX);
        assertThat(incremental.index()).isEqualTo(TableLayout.OPEN_SESSIONS_INDEX);
        assertThat(listing.getCause()).as("the service's answer kept for whoever looks").isInstanceOf(DynamoDbException.class);
        assertThat(dynamo.queries).extracting(q -> q.indexName()).containsOnly(TableLayout.OPEN_SESSIONS_INDEX);
        assertThat(transitions.countDueTransitions(NOW)).as("one a shard, from the index that answers").isEqualTo(TableLayout.SHARDS);
    }

    @Test
    void dueQueries_should_sayTheDueIndexIsBackfilling_countAndFind_while_theOpenIndexStillAnswers() {
        refuse(TableLayout.DUE_TRANSITIONS_INDEX, backfillingAnswer());

        assertThat(catchThrowableOfType(IndexBackfilling.class, () -> transitions.countDueTransitions(NOW)).index())
                .isEqualTo(TableLayout.DUE_TRANSITIONS_INDEX);
        assertThat(catchThrowableOfType(IndexBackfilling.class, () -> transitions.findDueTransitions(0, NOW, 50)).index())
                .isEqualTo(TableLayout.DUE_TRANSITIONS_INDEX);
        assertThat(dynamo.queries).as("the count gives up at the first refusal, not once a shard").hasSize(2);

        assertThat(sessions.openSessionsInShard(0, Optional.empty())).extracting(SessionId::value).containsExactly("0123456789abcdefghijkl");
    }

    @Test
    void otherRefusals_should_stayTheSdksError_evenWithTheSameCodeOrTheSameMessage() {
        DynamoDbException otherValidation = ScriptedDynamo.serviceError("ValidationException",
                "Consistent reads are not supported on global secondary indexes");
        refuse(TableLayout.OPEN_SESSIONS_INDEX, otherValidation);
        assertThatThrownBy(() -> sessions.openSessionsInShard(0, Optional.empty())).isSameAs(otherValidation);

        DynamoDbException otherCode = ScriptedDynamo.serviceError("ResourceNotFoundException",
                "Cannot read from backfilling global secondary index");
        refuse(TableLayout.DUE_TRANSITIONS_INDEX, otherCode);
        assertThatThrownBy(() -> transitions.countDueTransitions(NOW)).isSameAs(otherCode);

        DynamoDbException longerMessage = ScriptedDynamo.serviceError("ValidationException",
                "Cannot read from backfilling global secondary index, and something else");
        refuse(TableLayout.DUE_TRANSITIONS_INDEX, longerMessage);
        assertThatThrownBy(() -> transitions.findDueTransitions(0, NOW, 50)).isSameAs(longerMessage);

        DynamoDbException named = ScriptedDynamo.serviceError("ValidationException",
                "Cannot read from backfilling global secondary index: " + TableLayout.DUE_TRANSITIONS_INDEX);
        refuse(TableLayout.DUE_TRANSITIONS_INDEX, named);
        assertThatThrownBy(() -> transitions.findDueTransitions(0, NOW, 50)).as("the service's own wording, index named")
                .isInstanceOf(IndexBackfilling.class);

        DynamoDbException noDetails = (DynamoDbException) DynamoDbException.builder().message("Cannot read from backfilling global secondary index").build();
        refuse(TableLayout.DUE_TRANSITIONS_INDEX, noDetails);
        assertThatThrownBy(() -> transitions.findDueTransitions(0, NOW, 50)).isSameAs(noDetails);
    }
}

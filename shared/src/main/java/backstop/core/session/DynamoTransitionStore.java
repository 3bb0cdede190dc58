package backstop.core.session;

import backstop.core.events.EventOutbox;
import backstop.core.transition.Transition;
import backstop.core.transition.TransitionQueue;
import backstop.core.transition.TransitionState;
import software.amazon.awssdk.core.exception.AbortedException;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.Put;
import software.amazon.awssdk.services.dynamodb.model.ReturnValue;
import software.amazon.awssdk.services.dynamodb.model.ReturnValuesOnConditionCheckFailure;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static backstop.core.session.ItemMapper.*;
import static backstop.core.session.TableLayout.*;

/** {@link TransitionQueue} on the one table: transition items, found through the sparse due index. */
public final class DynamoTransitionStore implements TransitionQueue {
    /** How long ended transitions stay for audit before TTL removes them. */
    static final Duration TRANSITION_RETENTION = Duration.ofDays(30);

    /** A transition the reconciler may work: PENDING, or FAILED in the slow lane (still in the due index). */
    private static final String WORKABLE = "(" + TRANSITION_STATE + " = :pending OR " + TRANSITION_STATE + " = :failed)";

    /** How long a hand-over's count may hold the close (it is a wake-up call, never the record of the work). */
    static final Duration COUNT_TIMEOUT = Duration.ofMillis(300);

    private final DynamoTable table;
    private final DynamoDbClient dynamoDb;

    public DynamoTransitionStore(DynamoDbClient dynamoDb, String tableName) {
        this.table = new DynamoTable(dynamoDb, tableName);
        this.dynamoDb = dynamoDb;
    }

    @Override
    public List<Transition> findDueTransitions(int shard, Instant now, int limit) {
        return table.queryShard(DUE_TRANSITIONS_INDEX, DUE_SHARD + " = :shard AND " + NEXT_ATTEMPT_AT + " <= :at",
                dueShard(shard), now, limit, ItemMapper::transition);
    }

    @Override
    public long countDueTransitions(Instant now) {
        long count = 0;
        for (int shard = 0; shard < SHARDS; shard++) {
            count += table.count(DUE_TRANSITIONS_INDEX, DUE_SHARD + " = :shard AND " + NEXT_ATTEMPT_AT + " <= :now",
                    Map.of(":shard", s(dueShard(shard)), ":now", millis(now)));
        }
        return count;
    }

    @Override
    public Optional<Transition> claim(SessionId id, String claim, Instant now, Instant leaseUntil) {
        try {
            Map<String, AttributeValue> item = dynamoDb.updateItem(r -> r.tableName(table.name).key(transitionKey(id))
                    .updateExpression("SET " + CLAIM + " = :claim, " + NEXT_ATTEMPT_AT + " = :lease")
                    .conditionExpression(WORKABLE + " AND " + NEXT_ATTEMPT_AT + " <= :now")
                    .expressionAttributeValues(Map.of(":claim", s(claim), ":lease", millis(leaseUntil),
                            ":pending", s(TransitionState.PENDING.name()), ":failed", s(TransitionState.FAILED.name()),
                            ":now", millis(now)))
                    .returnValues(ReturnValue.ALL_NEW)
                    .returnValuesOnConditionCheckFailure(ReturnValuesOnConditionCheckFailure.ALL_OLD)).attributes();
            return Optional.of(transition(item));
        } catch (ConditionalCheckFailedException e) {
            // A retried claim that had landed finds its own claim in place: it is still ours.
            Map<String, AttributeValue> old = e.item();
            boolean ours = old != null && old.containsKey(CLAIM) && old.get(CLAIM).s().equals(claim)
                    && (TransitionState.PENDING.name().equals(old.get(TRANSITION_STATE).s())
                    || TransitionState.FAILED.name().equals(old.get(TRANSITION_STATE).s()));
            return ours ? Optional.of(transition(old)) : Optional.empty();
        }
    }

    @Override
    public Optional<Transition> findTransition(SessionId id) {
        Map<String, AttributeValue> item = dynamoDb.getItem(r -> r.tableName(table.name).key(transitionKey(id)).consistentRead(true)).item();
        return item == null || item.isEmpty() ? Optional.empty() : Optional.of(transition(item));
    }

    @Override
    public boolean completeTransition(SessionId id, String claim, TransitionState state, int attempts, boolean deferred,
                                      Optional<String> error, Instant now, Optional<EventOutbox.Kept> event) {
        if (!state.isFinal()) {
            throw new IllegalArgumentException("complete with a final state, not " + state);
        }
        Map<String, AttributeValue> values = new HashMap<>();
        values.put(":state", s(state.name()));
        values.put(":pending", s(TransitionState.PENDING.name()));
        values.put(":failed", s(TransitionState.FAILED.name()));
        values.put(":claim", s(claim));
        values.put(":now", millis(now));
        values.put(":deferred", AttributeValue.fromBool(deferred));
        values.put(":exp", seconds(now.plus(TRANSITION_RETENTION)));
        values.put(":attempts", n(attempts));
        String set = "SET " + TRANSITION_STATE + " = :state, " + COMPLETED_AT + " = :now, " + DEFERRED + " = :deferred, "
                + EXPIRES_AT + " = :exp, " + WRITTEN_BY + " = :claim, " + ATTEMPTS + " = :attempts";
        if (error.isPresent()) {
            set += ", " + LAST_ERROR + " = :error";
            values.put(":error", s(error.get()));
        }
        String update = set + " REMOVE " + DUE_SHARD + ", " + CLAIM;
        return table.conditionalUpdate(transitionKey(id), update, WORKABLE + " AND " + CLAIM + " = :claim", values,
                outboxRow(event));
    }

    /** The event's outbox row, put in the transaction of the outcome it reports. */
    private List<TransactWriteItem> outboxRow(Optional<EventOutbox.Kept> event) {
        return event.map(kept -> TransactWriteItem.builder().put(Put.builder().tableName(table.name)
                .item(DynamoEventOutbox.item(kept)).build()).build()).stream().toList();
    }

    /** Once an attempt's call may have landed unseen, the item says so for good. */
    private static String rememberLanded(boolean callMayHaveLanded, Map<String, AttributeValue> values) {
        if (!callMayHaveLanded) {
            return "";
        }
        values.put(":landed", AttributeValue.fromBool(true));
        return ", " + CALL_MAY_HAVE_LANDED + " = :landed";
    }

    @Override
    public boolean failIntoSlowLane(SessionId id, String claim, int attempts, String error, Instant now, Instant nextAttemptAt,
                                    boolean callMayHaveLanded, Optional<EventOutbox.Kept> event) {
        Map<String, AttributeValue> values = new HashMap<>();
        values.put(":pending", s(TransitionState.PENDING.name()));
        values.put(":failed", s(TransitionState.FAILED.name()));
        values.put(":claim", s(claim));
        values.put(":attempts", n(attempts));
        values.put(":error", s(error));
        values.put(":now", millis(now));
        values.put(":next", millis(nextAttemptAt));
        values.put(":exp", seconds(now.plus(TRANSITION_RETENTION)));
        // The due shard stays: the item stays in the due index, found again at nextAttemptAt.
        return table.conditionalUpdate(transitionKey(id),
                "SET " + TRANSITION_STATE + " = :failed, " + COMPLETED_AT + " = if_not_exists(" + COMPLETED_AT + ", :now), "
                        + ATTEMPTS + " = :attempts, " + LAST_ERROR + " = :error, " + NEXT_ATTEMPT_AT + " = :next, "
                        + EXPIRES_AT + " = :exp, " + WRITTEN_BY + " = :claim" + rememberLanded(callMayHaveLanded, values)
                        + " REMOVE " + CLAIM,
                WORKABLE + " AND " + CLAIM + " = :claim", values, outboxRow(event));
    }

    @Override
    public boolean releaseClaim(SessionId id, String claim, Instant now) {
        Map<String, AttributeValue> values = new HashMap<>();
        values.put(":pending", s(TransitionState.PENDING.name()));
        values.put(":failed", s(TransitionState.FAILED.name()));
        values.put(":claim", s(claim));
        values.put(":now", millis(now));
        try {
            dynamoDb.updateItem(r -> r.tableName(table.name).key(transitionKey(id))
                    .updateExpression("SET " + NEXT_ATTEMPT_AT + " = :now REMOVE " + CLAIM)
                    .conditionExpression(WORKABLE + " AND " + CLAIM + " = :claim")
                    .expressionAttributeValues(values));
            return true;
        } catch (ConditionalCheckFailedException e) {
            return false;
        }
    }

    /**
     * One item for the whole table, so each container counts at most one a second (OfflineTransitions.COUNT_EVERY).
     * Best effort within {@link #COUNT_TIMEOUT}, retries included: a throttled or slow count holds the close's answer no
     * longer, and the transition is due all the same.
     */
    @Override
    public void countHandOver() {
        dynamoDb.updateItem(r -> r.tableName(table.name).key(handOversKey())
                .updateExpression("ADD " + HANDOVER_COUNT + " :one")
                .expressionAttributeValues(Map.of(":one", n(1)))
                .overrideConfiguration(o -> o.apiCallTimeout(COUNT_TIMEOUT)));
    }

    /** An eventually consistent read (half a read unit): a change seen a moment late costs that moment, no more. */
    @Override
    public long handOvers() {
        Map<String, AttributeValue> item;
        try {
            item = dynamoDb.getItem(r -> r.tableName(table.name).key(handOversKey())).item();
        } catch (AbortedException e) {
            // The SDK cleared the thread's interrupt to say so: give it back, so the caller's next wait ends the run.
            Thread.currentThread().interrupt();
            throw e;
        }
        return item == null || !item.containsKey(HANDOVER_COUNT) ? 0 : Long.parseLong(item.get(HANDOVER_COUNT).n());
    }

    @Override
    public boolean recordFailedAttempt(SessionId id, String claim, int attempts, String error, Instant nextAttemptAt,
                                       boolean callMayHaveLanded) {
        Map<String, AttributeValue> values = new HashMap<>();
        values.put(":pending", s(TransitionState.PENDING.name()));
        values.put(":claim", s(claim));
        values.put(":attempts", n(attempts));
        values.put(":error", s(error));
        values.put(":next", millis(nextAttemptAt));
        return table.conditionalUpdate(transitionKey(id),
                "SET " + ATTEMPTS + " = :attempts, " + LAST_ERROR + " = :error, " + NEXT_ATTEMPT_AT + " = :next, "
                        + WRITTEN_BY + " = :claim" + rememberLanded(callMayHaveLanded, values) + " REMOVE " + CLAIM,
                TRANSITION_STATE + " = :pending AND " + CLAIM + " = :claim", values);
    }

}

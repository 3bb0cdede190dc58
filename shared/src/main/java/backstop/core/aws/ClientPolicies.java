package backstop.core.aws;

import java.time.Duration;

/**
 * Each function's {@link CallPolicy} per service. DynamoDB and EventBridge answer in milliseconds, so a second
 * per attempt is generous; Connect's PutUserStatus takes a few hundred.
 *
 * @param dynamoDb the sessions table
 * @param eventBridge the audit events
 * @param connect Amazon Connect
 */
public record ClientPolicies(CallPolicy dynamoDb, CallPolicy eventBridge, CallPolicy connect) {
    private static final CallPolicy DYNAMODB = new CallPolicy(3, Duration.ofSeconds(1), Duration.ofMillis(2500));
    private static final CallPolicy EVENTS = new CallPolicy(3, Duration.ofSeconds(1), Duration.ofMillis(2500));

    /**
     * The beacon: a close is usually GetItem, TransactWriteItems, at most one ListAgentStatuses (once per
     * container), PutUserStatus, UpdateItem and PutEvents in sequence, so its worst case is the sum of their
     * api-call limits ({@link #worstCaseClose()}: 19 s), under the function's 25 s timeout and API Gateway's 30 s.
     * Rarer paths add calls (docs/architecture.md, Close, adds them up). A Connect call that fails twice leaves the
     * transition PENDING for the reconciler.
     */
    public static final ClientPolicies BEACON = new ClientPolicies(DYNAMODB, EVENTS,
            new CallPolicy(2, Duration.ofSeconds(2), Duration.ofMillis(4500)));

    /**
     * The reconciler: one attempt per Connect call. Its own pacer spends the quota, and a transition's backoff
     * retries; an SDK retry would be a call the pacer never counted.
     */
    public static final ClientPolicies RECONCILER = new ClientPolicies(DYNAMODB, EVENTS,
            new CallPolicy(1, Duration.ofSeconds(3), Duration.ofSeconds(3)));

    /** The longest a close can take with every call at its limit (see {@link #BEACON}). */
    public Duration worstCaseClose() {
        return dynamoDb.apiCallTimeout().multipliedBy(3).plus(connect.apiCallTimeout().multipliedBy(2))
                .plus(eventBridge.apiCallTimeout());
    }

    /**
     * After the reconciler stops taking work: a PutUserStatus already sent, the write of its outcome, and the
     * last events. The handler keeps this much of the Lambda timeout free.
     */
    public Duration reconcilerDrain() {
        return connect.apiCallTimeout().plus(dynamoDb.apiCallTimeout()).plus(eventBridge.apiCallTimeout());
    }

    /** Every policy with timeouts of at least these (emulators); attempts unchanged. */
    public ClientPolicies atLeast(Duration attempt, Duration apiCall) {
        return new ClientPolicies(dynamoDb.atLeast(attempt, apiCall), eventBridge.atLeast(attempt, apiCall),
                connect.atLeast(attempt, apiCall));
    }
}

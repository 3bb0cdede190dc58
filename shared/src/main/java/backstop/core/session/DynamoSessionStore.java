package backstop.core.session;

import backstop.core.agent.AgentRef;
import backstop.core.agent.AgentStatus;
import backstop.core.transition.OfflineOutcome;
import backstop.core.transition.Transition;
import backstop.core.transition.TransitionReason;
import backstop.core.transition.TransitionState;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.CancellationReason;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.Put;
import software.amazon.awssdk.services.dynamodb.model.ReturnValue;
import software.amazon.awssdk.services.dynamodb.model.ReturnValuesOnConditionCheckFailure;
import software.amazon.awssdk.services.dynamodb.model.TransactWriteItem;
import software.amazon.awssdk.services.dynamodb.model.TransactionCanceledException;
import software.amazon.awssdk.services.dynamodb.model.Update;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static backstop.core.session.ItemMapper.*;
import static backstop.core.session.TableLayout.*;

/** {@link SessionStore} on the one DynamoDB table ({@link TableLayout}): session and agent items. */
public final class DynamoSessionStore implements SessionStore {
    /** How long closed sessions, ended transitions and idle agents stay for audit before TTL removes them. */
    static final Duration SESSION_RETENTION = Duration.ofDays(7);
    static final Duration AGENT_RETENTION = Duration.ofDays(90);

    private final DynamoTable table;
    private final DynamoDbClient dynamoDb;

    public DynamoSessionStore(DynamoDbClient dynamoDb, String tableName) {
        this.table = new DynamoTable(dynamoDb, tableName);
        this.dynamoDb = dynamoDb;
    }

    @Override
    public boolean createSession(NewSession session) {
        Map<String, AttributeValue> values = new HashMap<>();
        values.put(":sid", stringSet(session.id().value()));
        values.put(":now", millis(session.created()));
        values.put(":exp", seconds(session.created().plus(AGENT_RETENTION)));
        StringBuilder set = new StringBuilder("SET " + UPDATED_AT + " = :now, " + EXPIRES_AT + " = :exp");
        session.checkedUser().ifPresent(user -> {
            set.append(", ").append(USERNAME).append(" = :un, ").append(PROFILE_CHECKED_AT).append(" = :now");
            values.put(":un", s(user.username()));
            user.routingProfileId().ifPresent(profile -> {
                set.append(", ").append(ROUTING_PROFILE_ID).append(" = :rp");
                values.put(":rp", s(profile));
            });
        });
        Update.Builder agentUpdate = Update.builder().tableName(table.name).key(agentKey(session.agent()));
        // The cap holds however many pages register at once: the set may grow only while below it.
        values.put(":below", n(session.maxOpenSessions()));
        String condition = "(attribute_not_exists(" + OPEN_SESSIONS + ") OR size(" + OPEN_SESSIONS + ") < :below)";
        if (session.restoreOf().isPresent()) {
            // Take the restore: the last close is still the one read, and nobody took it yet.
            set.append(", ").append(LAST_CLOSE).append('.').append(RESTORED_BY).append(" = :me");
            values.put(":me", s(session.id().value()));
            values.put(":closed", s(session.restoreOf().get().value()));
            condition += " AND " + LAST_CLOSE + "." + SESSION_ID + " = :closed AND attribute_not_exists("
                    + LAST_CLOSE + "." + RESTORED_BY + ")";
        }
        agentUpdate.conditionExpression(condition);
        List<TransactWriteItem> items = new ArrayList<>(List.of(
                TransactWriteItem.builder().put(Put.builder().tableName(table.name)
                        .item(newSessionItem(session, session.created().plus(SESSION_RETENTION)))
                        .conditionExpression("attribute_not_exists(" + PK + ")").build()).build(),
                TransactWriteItem.builder().update(agentUpdate
                        .updateExpression(set + " ADD " + OPEN_SESSIONS + " :sid")
                        .expressionAttributeValues(values).build()).build()));
        // The restore's event row rides with the restore it reports: taken, both are written; not, neither.
        session.restoreOf().flatMap(r -> session.restoreEvent()).ifPresent(kept -> items.add(TransactWriteItem.builder()
                .put(Put.builder().tableName(table.name).item(DynamoEventOutbox.item(kept)).build()).build()));
        try {
            table.transact(items);
            return session.restoreOf().isPresent();
        } catch (TransactionCanceledException e) {
            // The SDK retries a transaction whose answer was lost; if the first try landed, the session exists
            // with our token hash and this is success, not a conflict.
            Optional<Session> existing = DynamoTable.failed(e.cancellationReasons(), 0) ? findSession(session.id()) : Optional.empty();
            if (existing.isPresent() && java.security.MessageDigest.isEqual(existing.get().tokenHash(), session.tokenHash())) {
                return session.restoreOf().isPresent()
                        && findAgent(session.agent()).flatMap(AgentRecord::lastClose)
                        .flatMap(AgentRecord.LastClose::restoredBy).filter(session.id()::equals).isPresent();
            }
            if (DynamoTable.failed(e.cancellationReasons(), 1)) {
                int open = findAgent(session.agent()).map(a -> a.openSessions().size()).orElse(0);
                if (open >= session.maxOpenSessions()) {
                    throw new SessionLimitReached(open);
                }
                if (session.restoreOf().isPresent()) {
                    // Another page took the restore, or the agent closed again since: register without it.
                    return createSession(session.withoutRestore());
                }
            }
            throw e;
        }
    }

    @Override
    public Optional<Session> findSession(SessionId id) {
        Map<String, AttributeValue> item = dynamoDb.getItem(r -> r.tableName(table.name).key(sessionKey(id)).consistentRead(true)).item();
        return item == null || item.isEmpty() ? Optional.empty() : Optional.of(session(item));
    }

    @Override
    public Optional<AgentRecord> findAgent(AgentRef agent) {
        Map<String, AttributeValue> item = dynamoDb.getItem(r -> r.tableName(table.name).key(agentKey(agent)).consistentRead(true)).item();
        return item == null || item.isEmpty() ? Optional.empty() : Optional.of(ItemMapper.agent(agent, item));
    }

    @Override
    public java.util.Set<String> openSessionIds(AgentRef agent) {
        Map<String, AttributeValue> item = dynamoDb.getItem(r -> r.tableName(table.name).key(agentKey(agent))
                .projectionExpression(OPEN_SESSIONS)).item();
        return item == null || !item.containsKey(OPEN_SESSIONS) ? java.util.Set.of() : java.util.Set.copyOf(item.get(OPEN_SESSIONS).ss());
    }

    @Override
    public Map<AgentRef, AgentRecord> findAgents(Collection<AgentRef> agents) {
        Map<String, AgentRef> byPk = new LinkedHashMap<>();
        agents.forEach(agent -> byPk.put(agentPk(agent), agent));
        Map<AgentRef, AgentRecord> found = new HashMap<>();
        for (Map<String, AttributeValue> item : table.batchGet(byPk.keySet().stream().map(pk -> key(pk, AGENT_SK)).toList(), true)) {
            AgentRef agent = byPk.get(item.get(PK).s());
            found.put(agent, ItemMapper.agent(agent, item));
        }
        return found;
    }

    @Override
    public List<SessionId> openSessionsInShard(int shard, Optional<Instant> createdAfter) {
        List<SessionId> ids = new ArrayList<>();
        forEachOpenSessionInShard(shard, createdAfter, ids::add);
        return ids;
    }

    @Override
    public void forEachOpenSessionInShard(int shard, Optional<Instant> createdAfter, java.util.function.Consumer<SessionId> each) {
        Map<String, AttributeValue> values = new HashMap<>();
        values.put(":shard", s(openShard(shard)));
        createdAfter.ifPresent(after -> values.put(":after", millis(after)));
        String condition = OPEN_SHARD + " = :shard" + (createdAfter.isPresent() ? " AND " + CREATED_AT + " > :after" : "");
        table.forEach(OPEN_SESSIONS_INDEX, condition, values, item -> each.accept(ItemMapper.sessionId(item)));
    }

    @Override
    public List<Session> readSessions(Collection<SessionId> ids) {
        return table.batchGet(ids.stream().distinct().map(ItemMapper::sessionKey).toList(), false).stream()
                .map(ItemMapper::session).toList();
    }

    @Override
    public Heartbeat heartbeat(SessionId id, SessionToken token, Optional<AgentStatus> status, Instant now,
                               Optional<Instant> notAfterLastSeen) {
        return heartbeat(id, token, status, now, notAfterLastSeen, Optional.empty());
    }

    @Override
    public Heartbeat heartbeat(SessionId id, SessionToken token, Optional<AgentStatus> status, Instant now,
                               Optional<Instant> notAfterLastSeen, Optional<Instant> crowdedAt) {
        return heartbeat(id, token, status, now, notAfterLastSeen, crowdedAt, Optional.empty());
    }

    @Override
    public Heartbeat heartbeat(SessionId id, SessionToken token, Optional<AgentStatus> status, Instant now,
                               Optional<Instant> notAfterLastSeen, Optional<Instant> crowdedAt, Optional<Instant> bornAfter) {
        Map<String, AttributeValue> values = new HashMap<>();
        values.put(":now", millis(now));
        values.put(":exp", seconds(now.plus(SESSION_RETENTION)));
        values.put(":one", n(1));
        values.put(":open", s(SessionState.OPEN.name()));
        values.put(":hash", AttributeValue.fromB(SdkBytes.fromByteArray(token.hash())));
        List<String> sets = new ArrayList<>(List.of(LAST_SEEN + " = :now", LAST_BEAT + " = :now", EXPIRES_AT + " = :exp"));
        if (crowdedAt.isPresent()) { // the same write: a crowded beat costs what any beat costs
            sets.add(CROWDED_AT + " = :crowded");
            values.put(":crowded", millis(crowdedAt.get()));
        }
        status.ifPresent(st -> setStatus(st, sets, values));
        String update = "SET " + String.join(", ", sets) + " ADD " + HEARTBEATS + " :one"
                + (withoutArn(status) ? " REMOVE " + STATUS_ARN : "");
        String condition = SESSION_STATE + " = :open AND " + TOKEN_HASH + " = :hash";
        if (notAfterLastSeen.isPresent()) {
            condition += " AND (attribute_not_exists(" + LAST_BEAT + ") OR " + LAST_BEAT + " <= :earliest)";
            values.put(":earliest", millis(notAfterLastSeen.get()));
        }
        if (bornAfter.isPresent()) { // the session's age is in the same condition: an expired beat writes nothing
            condition += " AND " + CREATED_AT + " > :born";
            values.put(":born", millis(bornAfter.get()));
        }
        String finalCondition = condition;
        try {
            // The hash comparison happens in DynamoDB; comparing hashes leaks nothing about the token.
            // The session's agent comes back with the write (returned values cost no capacity).
            Map<String, AttributeValue> kept = dynamoDb.updateItem(r -> r.tableName(table.name).key(sessionKey(id))
                    .updateExpression(update)
                    .conditionExpression(finalCondition)
                    .expressionAttributeValues(values)
                    .returnValues(ReturnValue.ALL_NEW)
                    .returnValuesOnConditionCheckFailure(ReturnValuesOnConditionCheckFailure.ALL_OLD)).attributes();
            return new Heartbeat(HeartbeatResult.RECORDED, Optional.of(ItemMapper.session(kept).agent()));
        } catch (ConditionalCheckFailedException e) {
            Map<String, AttributeValue> old = e.item();
            if (old == null || old.isEmpty()) {
                return Heartbeat.refused(HeartbeatResult.UNKNOWN_SESSION);
            }
            if (!token.matches(old.get(TOKEN_HASH).b().asByteArray())) {
                return Heartbeat.refused(HeartbeatResult.BAD_TOKEN);
            }
            if (!SessionState.OPEN.name().equals(old.get(SESSION_STATE).s())) {
                return Heartbeat.refused(HeartbeatResult.SESSION_CLOSED);
            }
            if (bornAfter.isPresent() && !ItemMapper.instant(old.get(CREATED_AT)).isAfter(bornAfter.get())) {
                return Heartbeat.refused(HeartbeatResult.EXPIRED);
            }
            return Heartbeat.refused(HeartbeatResult.TOO_FREQUENT);
        }
    }

    @Override
    public CloseResult close(Session current, CloseRequest request) {
        Session session = current;
        boolean assumeLast = true;
        for (int tryNo = 0; tryNo < DynamoTable.MAX_TRANSACTION_TRIES; tryNo++) {
            if (!session.isOpen()) {
                return new CloseResult.AlreadyClosed(session);
            }
            Instant lastSeen = session.lastSeen();
            if (request.onlyIfLastSeenBefore().filter(before -> !lastSeen.isBefore(before)).isPresent()) {
                return new CloseResult.StillAlive();
            }
            OfflineOutcome outcome = assumeLast ? (request.exemption() == Exemption.EXEMPT ? OfflineOutcome.EXEMPT : OfflineOutcome.PENDING)
                    : OfflineOutcome.NOT_NEEDED;
            Optional<Transition> transition = assumeLast ? Optional.of(newTransition(session, request)) : Optional.empty();
            List<TransactWriteItem> items = new ArrayList<>();
            items.add(closeSession(request, outcome));
            items.add(assumeLast ? releaseLastSession(session, request) : releaseOneOfSessions(session, request));
            transition.ifPresent(t -> items.add(TransactWriteItem.builder().put(Put.builder().tableName(table.name)
                    .item(transitionItem(t, request.now().plus(DynamoTransitionStore.TRANSITION_RETENTION)))
                    .conditionExpression("attribute_not_exists(" + PK + ")").build()).build()));
            try {
                dynamoDb.transactWriteItems(r -> r.transactItems(items));
                return new CloseResult.Closed(outcome, transition);
            } catch (TransactionCanceledException e) {
                List<CancellationReason> reasons = e.cancellationReasons();
                if (DynamoTable.failed(reasons, 0)) {
                    // Closed meanwhile, or a heartbeat moved lastSeen: read again and decide above.
                    session = findSession(request.sessionId()).orElseThrow();
                } else if (DynamoTable.failed(reasons, 1)) {
                    assumeLast = !assumeLast; // the other tab closed or opened meanwhile: take the other path
                } else if (!DynamoTable.conflict(reasons)) {
                    throw e;
                }
                DynamoTable.pause(tryNo);
            }
        }
        throw new IllegalStateException("close of session " + request.sessionId() + " kept conflicting");
    }

    private TransactWriteItem closeSession(CloseRequest request, OfflineOutcome outcome) {
        Map<String, AttributeValue> values = new HashMap<>();
        values.put(":closed", s(SessionState.CLOSED.name()));
        values.put(":open", s(SessionState.OPEN.name()));
        values.put(":now", millis(request.now()));
        values.put(":reason", s(request.reason().value()));
        values.put(":outcome", s(outcome.value()));
        values.put(":exp", seconds(request.now().plus(SESSION_RETENTION)));
        List<String> sets = new ArrayList<>(List.of(SESSION_STATE + " = :closed", CLOSED_AT + " = :now",
                CLOSE_REASON + " = :reason", CLOSE_OUTCOME + " = :outcome", EXPIRES_AT + " = :exp"));
        request.status().ifPresent(st -> setStatus(st, sets, values));
        String condition = SESSION_STATE + " = :open";
        if (request.onlyIfLastSeenBefore().isPresent()) {
            condition += " AND " + LAST_SEEN + " < :before";
            values.put(":before", millis(request.onlyIfLastSeenBefore().get()));
        }
        String finalCondition = condition;
        return TransactWriteItem.builder().update(Update.builder().tableName(table.name).key(sessionKey(request.sessionId()))
                .updateExpression("SET " + String.join(", ", sets) + " REMOVE " + OPEN_SHARD
                        + (withoutArn(request.status()) ? ", " + STATUS_ARN : ""))
                .conditionExpression(finalCondition)
                .expressionAttributeValues(values).build()).build();
    }

    /** A status without an ARN (a system state): the ARN of the status before it must go, or the pair would mismatch. */
    private static boolean withoutArn(Optional<AgentStatus> status) {
        return status.filter(st -> st.arn() == null).isPresent();
    }

    /** The status's name and ARN; a status without an ARN also removes the one before it (callers REMOVE it). */
    private static void setStatus(AgentStatus status, List<String> sets, Map<String, AttributeValue> values) {
        sets.add(STATUS_NAME + " = :sn");
        values.put(":sn", s(status.name()));
        if (status.arn() != null) {
            sets.add(STATUS_ARN + " = :sa");
            values.put(":sa", s(status.arn()));
        }
    }

    /** This was the agent's last open session (or the agent item lost track of it): empty the set. */
    private TransactWriteItem releaseLastSession(Session session, CloseRequest request) {
        Map<String, AttributeValue> values = agentValues(session, request, true);
        values.put(":sidv", s(session.id().value()));
        values.put(":one", n(1));
        return TransactWriteItem.builder().update(Update.builder().tableName(table.name).key(agentKey(session.agent()))
                .updateExpression("SET " + LAST_CLOSE + " = :lc, " + UPDATED_AT + " = :now REMOVE " + OPEN_SESSIONS)
                .conditionExpression("attribute_not_exists(" + OPEN_SESSIONS + ") OR (contains(" + OPEN_SESSIONS
                        + ", :sidv) AND size(" + OPEN_SESSIONS + ") = :one)")
                .expressionAttributeValues(values).build()).build();
    }

    /** Another session of the agent stays open: remove only this one. */
    private TransactWriteItem releaseOneOfSessions(Session session, CloseRequest request) {
        Map<String, AttributeValue> values = agentValues(session, request, false);
        values.put(":sid", stringSet(session.id().value()));
        values.put(":sidv", s(session.id().value()));
        values.put(":one", n(1));
        return TransactWriteItem.builder().update(Update.builder().tableName(table.name).key(agentKey(session.agent()))
                .updateExpression("SET " + LAST_CLOSE + " = :lc, " + UPDATED_AT + " = :now DELETE " + OPEN_SESSIONS + " :sid")
                .conditionExpression("attribute_exists(" + OPEN_SESSIONS + ") AND (size(" + OPEN_SESSIONS
                        + ") > :one OR NOT contains(" + OPEN_SESSIONS + ", :sidv))")
                .expressionAttributeValues(values).build()).build();
    }

    private static Map<String, AttributeValue> agentValues(Session session, CloseRequest request, boolean setOffline) {
        Map<String, AttributeValue> values = new HashMap<>();
        values.put(":now", millis(request.now()));
        values.put(":lc", AttributeValue.fromM(lastClose(session.id(), request.now(), request.reason(),
                request.status().or(session::status), setOffline && request.exemption() != Exemption.EXEMPT)));
        return values;
    }

    private static Transition newTransition(Session session, CloseRequest request) {
        TransitionReason reason = switch (request.reason()) {
            case STALE -> TransitionReason.STALE_SESSION;
            case EXPIRED -> TransitionReason.SESSION_EXPIRED;
            case TAB_CLOSED, LOGOUT, REPLACED -> TransitionReason.TAB_CLOSED;
        };
        if (request.exemption() == Exemption.EXEMPT) {
            return new Transition(session.id(), session.agent(), reason, TransitionState.EXEMPT, 0, request.now(),
                    request.now(), Optional.empty(), Optional.empty(), Optional.of(request.now()), false, false);
        }
        return new Transition(session.id(), session.agent(), reason, TransitionState.PENDING, 0, request.now(),
                request.leaseUntil(), Optional.of(request.claim()), Optional.empty(), Optional.empty(), false,
                request.exemption() == Exemption.UNKNOWN);
    }

}

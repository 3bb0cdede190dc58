package backstop.core.session;

import backstop.core.agent.AgentRef;
import backstop.core.agent.AgentStatus;
import backstop.core.agent.InstanceRef;
import backstop.core.transition.OfflineOutcome;
import backstop.core.transition.Transition;
import backstop.core.transition.TransitionReason;
import backstop.core.transition.TransitionState;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static backstop.core.session.TableLayout.*;

/** Explicit mapping between domain records and DynamoDB items: no reflection, every attribute named. */
final class ItemMapper {
    private ItemMapper() {
    }

    static Map<String, AttributeValue> key(String pk, String sk) {
        return Map.of(PK, s(pk), SK, s(sk));
    }

    static Map<String, AttributeValue> sessionKey(SessionId id) {
        return key(sessionPk(id), SESSION_SK);
    }

    static Map<String, AttributeValue> agentKey(AgentRef agent) {
        return key(agentPk(agent), AGENT_SK);
    }

    static Map<String, AttributeValue> transitionKey(SessionId id) {
        return key(transitionPk(id), TRANSITION_SK);
    }

    static Map<String, AttributeValue> handOversKey() {
        return key(HANDOVERS, HANDOVERS);
    }

    static Map<String, AttributeValue> newSessionItem(NewSession session, Instant expiresAt) {
        Map<String, AttributeValue> item = new HashMap<>(sessionKey(session.id()));
        item.put(USER_ID, s(session.agent().userId()));
        item.put(INSTANCE_ARN, s(session.agent().instance().arn()));
        item.put(TOKEN_HASH, AttributeValue.fromB(SdkBytes.fromByteArray(session.tokenHash())));
        item.put(CREATED_AT, millis(session.created()));
        item.put(LAST_SEEN, millis(session.created()));
        item.put(SESSION_STATE, s(SessionState.OPEN.name()));
        item.put(HEARTBEATS, n(0));
        item.put(OPEN_SHARD, s(openShard(shard(session.id()))));
        item.put(EXPIRES_AT, seconds(expiresAt));
        if (session.exemption() != Exemption.UNKNOWN) {
            item.put(EXEMPT, AttributeValue.fromBool(session.exemption() == Exemption.EXEMPT));
        }
        session.status().ifPresent(status -> putStatus(item, status));
        return item;
    }

    /** The session id of a session item, or of its entry in the keys-only open index. */
    static SessionId sessionId(Map<String, AttributeValue> item) {
        return new SessionId(item.get(PK).s().substring("SESSION#".length()));
    }

    static Session session(Map<String, AttributeValue> item) {
        SessionId id = sessionId(item);
        AgentRef agent = new AgentRef(InstanceRef.parseArn(item.get(INSTANCE_ARN).s()), item.get(USER_ID).s());
        return new Session(id, agent, item.get(TOKEN_HASH).b().asByteArray(), instant(item.get(CREATED_AT)),
                instant(item.get(LAST_SEEN)), SessionState.valueOf(item.get(SESSION_STATE).s()),
                optional(item, CLOSED_AT).map(ItemMapper::instant),
                optional(item, CLOSE_REASON).map(v -> CloseReason.parse(v.s())),
                status(item), optional(item, CLOSE_OUTCOME).map(v -> OfflineOutcome.parse(v.s())),
                optional(item, HEARTBEATS).map(v -> Long.parseLong(v.n())).orElse(0L),
                optional(item, EXEMPT).map(v -> Exemption.of(v.bool())).orElse(Exemption.UNKNOWN),
                optional(item, CROWDED_AT).map(ItemMapper::instant));
    }

    static AgentRecord agent(AgentRef agent, Map<String, AttributeValue> item) {
        Set<String> open = optional(item, OPEN_SESSIONS).map(v -> Set.copyOf(v.ss())).orElse(Set.of());
        Optional<AgentRecord.LastClose> lastClose = optional(item, LAST_CLOSE).map(v -> {
            Map<String, AttributeValue> m = v.m();
            return new AgentRecord.LastClose(new SessionId(m.get(SESSION_ID).s()), instant(m.get(AT)),
                    CloseReason.parse(m.get(REASON).s()), status(m), m.get(SET_OFFLINE).bool(),
                    optional(m, RESTORED_BY).map(r -> new SessionId(r.s())));
        });
        return new AgentRecord(agent, open, optional(item, USERNAME).map(AttributeValue::s),
                optional(item, ROUTING_PROFILE_ID).map(AttributeValue::s),
                optional(item, PROFILE_CHECKED_AT).map(ItemMapper::instant), lastClose);
    }

    static Map<String, AttributeValue> lastClose(SessionId id, Instant at, CloseReason reason,
                                                 Optional<AgentStatus> status, boolean setOffline) {
        Map<String, AttributeValue> m = new HashMap<>();
        m.put(SESSION_ID, s(id.value()));
        m.put(AT, millis(at));
        m.put(REASON, s(reason.value()));
        m.put(SET_OFFLINE, AttributeValue.fromBool(setOffline));
        status.ifPresent(st -> putStatus(m, st));
        return m;
    }

    static Map<String, AttributeValue> transitionItem(Transition t, Instant expiresAt) {
        Map<String, AttributeValue> item = new HashMap<>(transitionKey(t.sessionId()));
        item.put(SESSION_ID, s(t.sessionId().value()));
        item.put(USER_ID, s(t.agent().userId()));
        item.put(INSTANCE_ARN, s(t.agent().instance().arn()));
        item.put(REASON, s(t.reason().value()));
        item.put(TRANSITION_STATE, s(t.state().name()));
        item.put(ATTEMPTS, n(t.attempts()));
        item.put(CREATED_AT, millis(t.created()));
        item.put(NEXT_ATTEMPT_AT, millis(t.nextAttemptAt()));
        item.put(DEFERRED, AttributeValue.fromBool(t.deferred()));
        if (t.checkExemption()) {
            item.put(CHECK_EXEMPTION, AttributeValue.fromBool(true));
        }
        t.claim().ifPresent(c -> item.put(CLAIM, s(c)));
        t.lastError().ifPresent(e -> item.put(LAST_ERROR, s(e)));
        t.completedAt().ifPresent(c -> item.put(COMPLETED_AT, millis(c)));
        if (t.state() == TransitionState.PENDING) {
            item.put(DUE_SHARD, s(dueShard(shard(t.sessionId()))));
        } else {
            item.put(EXPIRES_AT, seconds(expiresAt));
        }
        return item;
    }

    static Transition transition(Map<String, AttributeValue> item) {
        return new Transition(new SessionId(item.get(SESSION_ID).s()),
                new AgentRef(InstanceRef.parseArn(item.get(INSTANCE_ARN).s()), item.get(USER_ID).s()),
                TransitionReason.parse(item.get(REASON).s()), TransitionState.valueOf(item.get(TRANSITION_STATE).s()),
                Integer.parseInt(item.get(ATTEMPTS).n()), instant(item.get(CREATED_AT)),
                instant(item.get(NEXT_ATTEMPT_AT)), optional(item, CLAIM).map(AttributeValue::s),
                optional(item, LAST_ERROR).map(AttributeValue::s), optional(item, COMPLETED_AT).map(ItemMapper::instant),
                optional(item, DEFERRED).map(AttributeValue::bool).orElse(false),
                optional(item, CHECK_EXEMPTION).map(AttributeValue::bool).orElse(false),
                optional(item, CALL_MAY_HAVE_LANDED).map(AttributeValue::bool).orElse(false));
    }

    static void putStatus(Map<String, AttributeValue> item, AgentStatus status) {
        item.put(STATUS_NAME, s(status.name()));
        if (status.arn() != null) {
            item.put(STATUS_ARN, s(status.arn()));
        }
    }

    static Optional<AgentStatus> status(Map<String, AttributeValue> item) {
        return optional(item, STATUS_NAME).map(name ->
                new AgentStatus(name.s(), optional(item, STATUS_ARN).map(AttributeValue::s).orElse(null)));
    }

    static Optional<AttributeValue> optional(Map<String, AttributeValue> item, String name) {
        AttributeValue value = item.get(name);
        return value == null || Boolean.TRUE.equals(value.nul()) ? Optional.empty() : Optional.of(value);
    }

    static AttributeValue s(String value) {
        return AttributeValue.fromS(value);
    }

    static AttributeValue n(long value) {
        return AttributeValue.fromN(Long.toString(value));
    }

    static AttributeValue millis(Instant instant) {
        return n(instant.toEpochMilli());
    }

    /** TTL attributes are epoch seconds. */
    static AttributeValue seconds(Instant instant) {
        return n(instant.getEpochSecond());
    }

    static AttributeValue stringSet(String value) {
        return AttributeValue.fromSs(List.of(value));
    }

    static Instant instant(AttributeValue value) {
        return Instant.ofEpochMilli(Long.parseLong(value.n()));
    }
}

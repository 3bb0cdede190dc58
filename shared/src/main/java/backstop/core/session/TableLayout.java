package backstop.core.session;

import backstop.core.agent.AgentRef;

/**
 * The single table's keys and attribute names (docs/architecture.md describes the access patterns).
 *
 * <pre>
 * item        pk                                sk          sparse index keys (present only while work may be due)
 * session     SESSION#&lt;sessionId&gt;               SESSION     openShard=OPEN#&lt;0..15&gt;, createdAt   (while OPEN)
 * agent       AGENT#&lt;instanceId&gt;#&lt;userId&gt;       AGENT       -
 * transition  TRANSITION#&lt;sessionId&gt;            TRANSITION  dueShard=DUE#&lt;0..15&gt;, nextAttemptAt  (while PENDING)
 * hand-overs  HANDOVERS                         HANDOVERS   -   (one item: a count the beacons add to, the idle reconciler reads)
 * </pre>
 * The shard is a hash of the session id, so the open sessions of all agents spread over 16 index partitions.
 * The open index is keys-only and keyed on nothing a heartbeat writes (sorted by creation, which never
 * changes): a heartbeat is one write unit (the session item) and never an index write; the stale sweep lists
 * a shard's open sessions (all once a minute, those created since its last listing in between) and reads their
 * {@code lastSeen} (half a read unit each, only for sessions that may have gone stale since it last looked).
 * The due index holds only work that is due.
 */
public final class TableLayout {
    public static final String PK = "pk";
    public static final String SK = "sk";
    public static final String OPEN_SESSIONS_INDEX = "OpenSessionsByShard";
    public static final String DUE_TRANSITIONS_INDEX = "PendingTransitionsByDue";
    public static final String OPEN_SHARD = "openShard";
    public static final String LAST_SEEN = "lastSeen";
    public static final String DUE_SHARD = "dueShard";
    public static final String NEXT_ATTEMPT_AT = "nextAttemptAt";
    public static final String EXPIRES_AT = "expiresAt";
    public static final int SHARDS = 16;

    static final String SESSION_SK = "SESSION";
    static final String AGENT_SK = "AGENT";
    static final String TRANSITION_SK = "TRANSITION";

    // session attributes
    static final String USER_ID = "userId";
    static final String INSTANCE_ARN = "instanceArn";
    static final String TOKEN_HASH = "tokenHash";
    public static final String CREATED_AT = "createdAt";
    // "state" and "status" are DynamoDB reserved words: the names below avoid them.
    static final String SESSION_STATE = "sessionState";
    static final String CLOSED_AT = "closedAt";
    static final String CLOSE_REASON = "closeReason";
    static final String CLOSE_OUTCOME = "closeOutcome";
    static final String STATUS_NAME = "statusName";
    static final String STATUS_ARN = "statusArn";
    static final String HEARTBEATS = "heartbeats";
    /** When the last heartbeat (not the register) came: the per-session flood limit compares with it. */
    static final String LAST_BEAT = "lastBeatAt";
    static final String EXEMPT = "exempt";
    /** When a heartbeat last said its page had been throttled (429) since its previous beat landed. */
    static final String CROWDED_AT = "crowdedAt";
    // agent attributes
    static final String OPEN_SESSIONS = "openSessions";
    static final String ROUTING_PROFILE_ID = "routingProfileId";
    static final String USERNAME = "connectUsername";
    static final String PROFILE_CHECKED_AT = "profileCheckedAt";
    static final String LAST_CLOSE = "lastClose";
    static final String UPDATED_AT = "updatedAt";
    static final String SESSION_ID = "sessionId";
    static final String AT = "closedAt"; // inside the lastClose map ("at" is a reserved word)
    static final String REASON = "reason";
    static final String SET_OFFLINE = "setOffline";
    static final String RESTORED_BY = "restoredBy";
    // transition attributes
    static final String TRANSITION_STATE = "transitionState";
    static final String ATTEMPTS = "attempts";
    static final String CLAIM = "claim";
    /** The claim under which the last write was made: lets a retried write recognise that it already landed. */
    static final String WRITTEN_BY = "writtenBy";
    static final String LAST_ERROR = "lastError";
    static final String COMPLETED_AT = "completedAt";
    static final String DEFERRED = "appliedAsNextStatus"; // "deferred" is a reserved word
    static final String CHECK_EXEMPTION = "checkExemption";
    /** Set once an attempt's PutUserStatus went out and its answer was lost (absent: none did). */
    static final String CALL_MAY_HAVE_LANDED = "callMayHaveLanded";
    // the hand-over count's item ("count" is a reserved word)
    static final String HANDOVERS = "HANDOVERS";
    static final String HANDOVER_COUNT = "handOvers";

    private TableLayout() {
    }

    static String sessionPk(SessionId id) {
        return "SESSION#" + id.value();
    }

    static String agentPk(AgentRef agent) {
        return "AGENT#" + agent.instance().instanceId() + "#" + agent.userId();
    }

    static String transitionPk(SessionId id) {
        return "TRANSITION#" + id.value();
    }

    public static int shard(SessionId id) {
        return Math.floorMod(id.value().hashCode(), SHARDS);
    }

    public static String openShard(int shard) {
        return "OPEN#" + shard;
    }

    public static String dueShard(int shard) {
        return "DUE#" + shard;
    }
}

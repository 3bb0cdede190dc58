package backstop.core.session;

import backstop.core.agent.AgentRef;
import backstop.core.agent.AgentStatus;

import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Sessions and agents (a close creates its transition in the same transaction; what becomes of the transition is
 * {@link backstop.core.transition.TransitionStore}'s). Every race (heartbeat against stale close, duplicate
 * beacons, two tabs closing together, two reconcilers) is settled inside the store by conditional writes.
 */
public interface SessionStore {

    /**
     * Creates the session and adds it to the agent's open sessions, atomically. When {@code restoreOf} names the
     * agent's last close, the same transaction marks that close restored, so of two pages registering at once only
     * one gets the restore; true when this session took it (false when none was asked or another took it).
     */
    boolean createSession(NewSession session);

    /** The session, read strongly consistent. */
    Optional<Session> findSession(SessionId id);

    Optional<AgentRecord> findAgent(AgentRef agent);

    /** Several agents at once, read strongly consistent; agents without an item are absent. */
    Map<AgentRef, AgentRecord> findAgents(Collection<AgentRef> agents);

    /**
     * The ids of the OPEN sessions of one index shard (the sparse, keys-only open index, sorted by creation: a
     * heartbeat never writes to it, so each beat costs one write unit), all of them or only those created after
     * {@code createdAfter}. Read eventually consistent: a session registered a moment ago may be missing from one
     * listing; callers list with an overlap.
     */
    List<SessionId> openSessionsInShard(int shard, Optional<Instant> createdAfter);

    /**
     * As {@link #openSessionsInShard}, each id handed to {@code each} as its page of the index arrives, so a listing
     * holds one page (1 MB of index at most), not the shard's every id.
     */
    default void forEachOpenSessionInShard(int shard, Optional<Instant> createdAfter, java.util.function.Consumer<SessionId> each) {
        openSessionsInShard(shard, createdAfter).forEach(each);
    }

    /**
     * Several sessions at once, read eventually consistent (half a read unit each): what the stale sweep decides
     * from. A stale read can only make a session look older than it is, and the stale close is conditional on
     * {@code lastSeen}, so a live session is never closed on it; sessions without an item are absent.
     */
    List<Session> readSessions(Collection<SessionId> ids);

    /** Records a heartbeat if the session is open and the token is its own. Never reopens a session. */
    default Heartbeat heartbeat(SessionId id, SessionToken token, Optional<AgentStatus> status, Instant now) {
        return heartbeat(id, token, status, now, Optional.empty());
    }

    /**
     * As {@link #heartbeat(SessionId, SessionToken, Optional, Instant)}, refusing (TOO_FREQUENT, nothing written)
     * when the session's previous heartbeat (the register does not count) is later than {@code notAfterLastSeen}.
     */
    Heartbeat heartbeat(SessionId id, SessionToken token, Optional<AgentStatus> status, Instant now,
                        Optional<Instant> notAfterLastSeen);

    /**
     * As above; {@code crowdedAt}: when the page was last throttled (429) since its previous beat landed, recorded
     * as the session's {@code crowdedAt} in the same write. Stores that keep no such record ignore it.
     */
    default Heartbeat heartbeat(SessionId id, SessionToken token, Optional<AgentStatus> status, Instant now,
                                Optional<Instant> notAfterLastSeen, Optional<Instant> crowdedAt) {
        return heartbeat(id, token, status, now, notAfterLastSeen);
    }

    /**
     * As above, refusing (EXPIRED, nothing written) a session created at or before {@code bornAfter}: past its
     * maximum age ({@link SessionLifetime}), a beat no longer keeps it alive, so it goes stale even if nothing closes
     * it. The token is checked first: a wrong token is BAD_TOKEN whatever the session's age. Stores that keep no
     * creation time ignore it.
     */
    default Heartbeat heartbeat(SessionId id, SessionToken token, Optional<AgentStatus> status, Instant now,
                                Optional<Instant> notAfterLastSeen, Optional<Instant> crowdedAt, Optional<Instant> bornAfter) {
        return heartbeat(id, token, status, now, notAfterLastSeen, crowdedAt);
    }

    /**
     * The ids of the agent's open sessions, read eventually consistent (half a read unit): what a heartbeat tells
     * its page about the agent's other CCPs. A second's lag is harmless there; the close decides on a consistent read.
     */
    java.util.Set<String> openSessionIds(AgentRef agent);

    /**
     * Closes an open session and, when it was the agent's last open session, creates the agent's Offline
     * transition in the same transaction (so a close is never recorded without its transition). {@code current}
     * is the session as the caller just read it (the beacon to check the token, the sweep from the index): the
     * store reads it again only when a condition shows it changed meanwhile.
     */
    CloseResult close(Session current, CloseRequest request);

}

package backstop.core.session;

import backstop.core.agent.AgentRef;
import backstop.core.agent.AgentStatus;
import backstop.core.transition.Transition;
import backstop.core.transition.TransitionState;

import java.time.Instant;
import java.util.Optional;

/**
 * Sessions, agents and transitions. Every race (heartbeat against stale close, duplicate beacons, two tabs
 * closing together, two reconcilers) is settled inside the store by conditional writes.
 */
public interface SessionStore {

    /** Creates the session and adds it to the agent's open sessions, atomically. */
    void createSession(NewSession session);

    /** The session, read strongly consistent. */
    Optional<Session> findSession(SessionId id);

    Optional<AgentRecord> findAgent(AgentRef agent);

    /** Records a heartbeat if the session is open and the token is its own. Never reopens a session. */
    HeartbeatResult heartbeat(SessionId id, SessionToken token, Optional<AgentStatus> status, Instant now);

    /**
     * Closes an open session and, when it was the agent's last open session, creates the agent's Offline
     * transition in the same transaction (so a close is never recorded without its transition).
     */
    CloseResult close(CloseRequest request);

    Optional<Transition> findTransition(SessionId id);

    /** Ends a PENDING transition held under {@code claim}; false when the claim was lost (nothing written). */
    boolean completeTransition(SessionId id, String claim, TransitionState state, boolean deferred,
                               Optional<String> error, Instant now);

    /** Releases the claim after a failed attempt and schedules the next one; false when the claim was lost. */
    boolean recordFailedAttempt(SessionId id, String claim, int attempts, String error, Instant nextAttemptAt);
}

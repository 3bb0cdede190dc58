package backstop.core.transition;

import backstop.core.agent.AgentRef;
import backstop.core.session.SessionId;

import java.time.Instant;
import java.util.Optional;

/**
 * Setting one agent Offline, once, for one closed session (its id is the session's: one close, one transition).
 *
 * @param nextAttemptAt when a PENDING transition is due (also the end of the lease of whoever claimed it)
 * @param claim the lease token of the invocation working on it, if any
 * @param checkExemption the agent's exemption was unknown when the session registered: ask Connect before
 *                       PutUserStatus (a supervisor is never set Offline on a guess)
 * @param callMayHaveLanded an earlier attempt's PutUserStatus went out and its answer was lost (5xx, time-out,
 *                          network): Connect may have set the agent Offline, so finding them Offline later is that
 *                          attempt's success, not someone else's doing
 */
public record Transition(SessionId sessionId, AgentRef agent, TransitionReason reason, TransitionState state,
                         int attempts, Instant created, Instant nextAttemptAt, Optional<String> claim,
                         Optional<String> lastError, Optional<Instant> completedAt, boolean deferred,
                         boolean checkExemption, boolean callMayHaveLanded) {

    /** A transition no attempt of which may have landed unseen. */
    public Transition(SessionId sessionId, AgentRef agent, TransitionReason reason, TransitionState state, int attempts,
                      Instant created, Instant nextAttemptAt, Optional<String> claim, Optional<String> lastError,
                      Optional<Instant> completedAt, boolean deferred, boolean checkExemption) {
        this(sessionId, agent, reason, state, attempts, created, nextAttemptAt, claim, lastError, completedAt, deferred,
                checkExemption, false);
    }
}

package backstop.core.session;

import backstop.core.agent.AgentStatus;

import java.time.Instant;
import java.util.Optional;

/**
 * Closing one session.
 *
 * @param exemption exempt: record the close, never set them Offline; unknown: the transition asks Connect first
 * @param claim lease token for the transition the close may create (the closer works on it at once)
 * @param leaseUntil when that lease ends and the reconciler may take the transition over
 * @param onlyIfLastSeenBefore for the stale sweep: close only if no heartbeat came since (a heartbeat wins)
 */
public record CloseRequest(SessionId sessionId, CloseReason reason, Optional<AgentStatus> status, Instant now,
                           Exemption exemption, String claim, Instant leaseUntil, Optional<Instant> onlyIfLastSeenBefore) {
}

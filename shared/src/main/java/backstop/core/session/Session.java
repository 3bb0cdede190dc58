package backstop.core.session;

import backstop.core.agent.AgentRef;
import backstop.core.agent.AgentStatus;
import backstop.core.transition.OfflineOutcome;

import java.time.Instant;
import java.util.Optional;

/**
 * A CCP tab's session as stored.
 *
 * @param tokenHash SHA-256 of the token (the token itself is never stored)
 * @param status the last status the page reported (at register, heartbeat or close)
 * @param closeOutcome what the close decided for the agent (empty while open)
 * @param exemption whether the agent's routing profile was exempt when the session registered (exempt: never set
 *                  Offline; unknown: asked again before setting them Offline)
 * @param crowdedAt when a heartbeat last said the page had been throttled (a 429) since its previous beat landed:
 *                  the flood's footprint as the pages see it (HeartbeatOutageBrake)
 */
public record Session(SessionId id, AgentRef agent, byte[] tokenHash, Instant created, Instant lastSeen,
                      SessionState state, Optional<Instant> closedAt, Optional<CloseReason> closeReason,
                      Optional<AgentStatus> status, Optional<OfflineOutcome> closeOutcome, long heartbeats,
                      Exemption exemption, Optional<Instant> crowdedAt) {

    /** A session no beat has reported crowded. */
    public Session(SessionId id, AgentRef agent, byte[] tokenHash, Instant created, Instant lastSeen,
                   SessionState state, Optional<Instant> closedAt, Optional<CloseReason> closeReason,
                   Optional<AgentStatus> status, Optional<OfflineOutcome> closeOutcome, long heartbeats,
                   Exemption exemption) {
        this(id, agent, tokenHash, created, lastSeen, state, closedAt, closeReason, status, closeOutcome, heartbeats,
                exemption, Optional.empty());
    }

    public boolean isOpen() {
        return state == SessionState.OPEN;
    }
}

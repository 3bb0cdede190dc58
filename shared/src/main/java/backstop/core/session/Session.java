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
 */
public record Session(SessionId id, AgentRef agent, byte[] tokenHash, Instant created, Instant lastSeen,
                      SessionState state, Optional<Instant> closedAt, Optional<CloseReason> closeReason,
                      Optional<AgentStatus> status, Optional<OfflineOutcome> closeOutcome, long heartbeats,
                      Exemption exemption) {

    public boolean isOpen() {
        return state == SessionState.OPEN;
    }
}

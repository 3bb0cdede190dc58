package backstop.core.session;

import backstop.core.agent.AgentRef;
import backstop.core.agent.AgentStatus;

import java.time.Instant;
import java.util.Optional;
import java.util.Set;

/**
 * What the table knows of an agent: the sessions open now (the one place "is another tab open?" is decided,
 * atomically), the username and routing profile last seen in Connect (with when), and the last close (for reload
 * restore).
 */
public record AgentRecord(AgentRef agent, Set<String> openSessions, Optional<String> username,
                          Optional<String> routingProfileId, Optional<Instant> profileCheckedAt,
                          Optional<LastClose> lastClose) {

    /**
     * The last close of one of the agent's sessions.
     *
     * @param setOffline the close made the agent's Offline transition (last tab, not exempt)
     * @param restoredBy the session whose register took this close's reload restore, if one did
     */
    public record LastClose(SessionId sessionId, Instant at, CloseReason reason, Optional<AgentStatus> status,
                            boolean setOffline, Optional<SessionId> restoredBy) {
    }
}

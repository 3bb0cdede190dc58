package backstop.core.session;

import backstop.core.agent.AgentRef;
import backstop.core.agent.AgentStatus;

import java.time.Instant;
import java.util.Optional;

/**
 * A session to create.
 *
 * @param routingProfileId the agent's routing profile when Connect was just asked (empty: keep what is stored)
 * @param exempt the routing profile is one of EXEMPT_ROUTING_PROFILE_IDS
 * @param restoreOf the agent's last close this register takes for a reload restore (each close restores once)
 */
public record NewSession(SessionId id, AgentRef agent, byte[] tokenHash, Instant created, Optional<AgentStatus> status,
                         Optional<String> routingProfileId, boolean exempt, Optional<SessionId> restoreOf) {

    public NewSession withoutRestore() {
        return new NewSession(id, agent, tokenHash, created, status, routingProfileId, exempt, Optional.empty());
    }
}

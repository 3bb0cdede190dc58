package backstop.core.session;

import backstop.core.agent.AgentRef;
import backstop.core.agent.AgentStatus;

import java.time.Instant;
import java.util.Optional;

/**
 * A session to create.
 *
 * @param checkedUser the agent's Connect user when Connect was just asked (empty: keep what is stored)
 * @param exemption whether the routing profile is one of EXEMPT_ROUTING_PROFILE_IDS (unknown: Connect could not say)
 * @param restoreOf the agent's last close this register takes for a reload restore (each close restores once)
 * @param maxOpenSessions the most open sessions the agent may have, this one included
 */
public record NewSession(SessionId id, AgentRef agent, byte[] tokenHash, Instant created, Optional<AgentStatus> status,
                         Optional<CheckedUser> checkedUser, Exemption exemption, Optional<SessionId> restoreOf,
                         int maxOpenSessions) {

    /** What Connect's DescribeUser said of the agent: their username (the identity check) and routing profile. */
    public record CheckedUser(String username, Optional<String> routingProfileId) {
    }

    public NewSession withoutRestore() {
        return new NewSession(id, agent, tokenHash, created, status, checkedUser, exemption, Optional.empty(), maxOpenSessions);
    }
}

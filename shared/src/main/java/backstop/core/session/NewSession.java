package backstop.core.session;

import backstop.core.agent.AgentRef;
import backstop.core.agent.AgentStatus;
import backstop.core.events.EventOutbox;

import java.time.Instant;
import java.util.Optional;

/**
 * A session to create.
 *
 * @param checkedUser the agent's Connect user when Connect was just asked (empty: keep what is stored)
 * @param exemption whether the routing profile is one of EXEMPT_ROUTING_PROFILE_IDS (unknown: Connect could not say)
 * @param restoreOf the agent's last close this register takes for a reload restore (each close restores once)
 * @param maxOpenSessions the most open sessions the agent may have, this one included
 * @param restoreEvent the outbox row of the {@code Agent Status Restored} this register publishes when it takes the
 *                     restore: written in the same transaction, and only then (the transactional outbox)
 */
public record NewSession(SessionId id, AgentRef agent, byte[] tokenHash, Instant created, Optional<AgentStatus> status,
                         Optional<CheckedUser> checkedUser, Exemption exemption, Optional<SessionId> restoreOf,
                         int maxOpenSessions, Optional<EventOutbox.Kept> restoreEvent) {

    /** A session whose restore (if any) publishes no event through the outbox. */
    public NewSession(SessionId id, AgentRef agent, byte[] tokenHash, Instant created, Optional<AgentStatus> status,
                      Optional<CheckedUser> checkedUser, Exemption exemption, Optional<SessionId> restoreOf,
                      int maxOpenSessions) {
        this(id, agent, tokenHash, created, status, checkedUser, exemption, restoreOf, maxOpenSessions, Optional.empty());
    }

    /** What Connect's DescribeUser said of the agent: their username (the identity check) and routing profile. */
    public record CheckedUser(String username, Optional<String> routingProfileId) {
    }

    public NewSession withoutRestore() {
        return new NewSession(id, agent, tokenHash, created, status, checkedUser, exemption, Optional.empty(), maxOpenSessions,
                Optional.empty());
    }
}

package backstop.core.connect;

import java.util.Optional;

/**
 * What GetCurrentUserData says of one agent right now.
 *
 * @param statusId the current status's id (last segment of its ARN)
 * @param nextStatusName the status queued for after the live contact, if any (Connect gives only its name)
 * @param routingProfileId the agent's routing profile now (the bulk source of exemptions: 100 agents a call)
 */
public record AgentSnapshot(String userId, String statusId, String statusName, Optional<String> nextStatusName,
                            boolean onContact, Optional<String> routingProfileId) {
    public AgentSnapshot(String userId, String statusId, String statusName, Optional<String> nextStatusName, boolean onContact) {
        this(userId, statusId, statusName, nextStatusName, onContact, Optional.empty());
    }
}

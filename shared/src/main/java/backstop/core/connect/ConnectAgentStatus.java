package backstop.core.connect;

import backstop.core.agent.InstanceRef;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.connect.ConnectClient;
import software.amazon.awssdk.services.connect.model.AgentStatusSummary;
import software.amazon.awssdk.services.connect.model.AgentStatusType;
import software.amazon.awssdk.services.connect.model.ResourceNotFoundException;
import software.amazon.awssdk.services.connect.model.User;

import java.util.Optional;
import java.util.function.Supplier;

/**
 * The gateway to Amazon Connect for agent status. The Offline status is found by its type OFFLINE (it can be
 * renamed) once per container and cached; PutUserStatus is called once per transition.
 */
public final class ConnectAgentStatus {
    private final ConnectClient connect;
    private final InstanceRef instance;
    private volatile String offlineStatusId;

    public ConnectAgentStatus(ConnectClient connect, InstanceRef instance) {
        this.connect = connect;
        this.instance = instance;
    }

    /** The id of the instance's OFFLINE-type status (cached after the first successful lookup). */
    public String offlineStatusId() throws ConnectFailure {
        String cached = offlineStatusId;
        if (cached != null) {
            return cached;
        }
        String found = call(() -> connect.listAgentStatusesPaginator(r -> r.instanceId(instance.instanceId())
                        .agentStatusTypes(AgentStatusType.OFFLINE))
                .agentStatusSummaryList().stream()
                .filter(s -> s.type() == AgentStatusType.OFFLINE)
                .map(AgentStatusSummary::id)
                .findFirst()
                .orElse(null));
        if (found == null) {
            throw new ConnectFailure("NoOfflineStatus", false, false, null);
        }
        offlineStatusId = found;
        return found;
    }

    /**
     * Sets the agent Offline. If the agent is on a contact, Connect makes Offline their next status instead.
     */
    public void setOffline(String userId) throws ConnectFailure {
        String statusId = offlineStatusId();
        try {
            call(() -> connect.putUserStatus(r -> r.instanceId(instance.instanceId()).userId(userId).agentStatusId(statusId)));
        } catch (ConnectFailure failure) {
            if (failure.getCause() instanceof ResourceNotFoundException) {
                offlineStatusId = null; // the next attempt looks the status up again, in case that was what vanished
            }
            throw failure;
        }
    }

    /** The user's routing profile id, or empty when the user does not exist in the instance. */
    public Optional<String> routingProfileOf(String userId) throws ConnectFailure {
        try {
            User user = call(() -> connect.describeUser(r -> r.instanceId(instance.instanceId()).userId(userId)).user());
            return Optional.ofNullable(user.routingProfileId());
        } catch (ConnectFailure failure) {
            if (failure.getCause() instanceof ResourceNotFoundException) {
                return Optional.empty();
            }
            throw failure;
        }
    }

    private static <T> T call(Supplier<T> call) throws ConnectFailure {
        try {
            return call.get();
        } catch (SdkException e) {
            throw classify(e);
        }
    }

    static ConnectFailure classify(SdkException e) {
        if (e instanceof AwsServiceException service) {
            int status = service.statusCode();
            String code = service.awsErrorDetails() != null && service.awsErrorDetails().errorCode() != null
                    ? service.awsErrorDetails().errorCode() : service.getClass().getSimpleName();
            boolean throttled = service.isThrottlingException() || status == 429;
            boolean retryable = throttled || status >= 500;
            return new ConnectFailure(code + " (" + status + ")", retryable, throttled, e);
        }
        if (e instanceof SdkClientException) {
            return new ConnectFailure("ConnectUnreachable", true, false, e);
        }
        return new ConnectFailure(e.getClass().getSimpleName(), true, false, e);
    }
}

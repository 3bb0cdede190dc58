package backstop.core.connect;

import backstop.core.agent.AgentStatus;
import backstop.core.agent.InstanceRef;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.connect.ConnectClient;
import software.amazon.awssdk.services.connect.model.AgentStatusSummary;
import software.amazon.awssdk.services.connect.model.AgentStatusType;
import software.amazon.awssdk.services.connect.model.GetCurrentUserDataResponse;
import software.amazon.awssdk.services.connect.model.ResourceNotFoundException;
import software.amazon.awssdk.services.connect.model.User;
import software.amazon.awssdk.services.connect.model.UserData;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The gateway to Amazon Connect for agent status. The Offline status is found by its type OFFLINE (it can be
 * renamed) once per container and cached; PutUserStatus is called once per transition.
 */
public final class ConnectAgentStatus {
    public static final String PUT_USER_STATUS = "PutUserStatus";
    public static final String GET_CURRENT_USER_DATA = "GetCurrentUserData";
    /** GetCurrentUserData's Agents filter takes at most 100 users. */
    public static final int MAX_AGENTS_PER_LOOKUP = 100;

    private final ConnectClient connect;
    private final InstanceRef instance;
    private final ConnectBudget pacer;
    private volatile AgentStatusSummary offlineStatus;

    public ConnectAgentStatus(ConnectClient connect, InstanceRef instance) {
        this(connect, instance, ConnectPacer.NONE);
    }

    public ConnectAgentStatus(ConnectClient connect, InstanceRef instance, ConnectBudget pacer) {
        this.connect = connect;
        this.instance = instance;
        this.pacer = pacer;
    }

    /** The id of the instance's OFFLINE-type status (cached after the first successful lookup). */
    public String offlineStatusId() throws ConnectFailure {
        return offlineStatus().id();
    }

    private AgentStatusSummary offlineStatus() throws ConnectFailure {
        AgentStatusSummary cached = offlineStatus;
        return cached != null ? cached : lookUpOfflineStatus();
    }

    /**
     * One lookup at a time in a container: at a shift end a fresh container's first closes come together, and each
     * asking would queue a herd of ListAgentStatuses turns in the shared budget ahead of their PutUserStatus.
     */
    private synchronized AgentStatusSummary lookUpOfflineStatus() throws ConnectFailure {
        AgentStatusSummary cached = offlineStatus;
        if (cached != null) {
            return cached;
        }
        pace("ListAgentStatuses");
        AgentStatusSummary found = call(() -> connect.listAgentStatusesPaginator(r -> r.instanceId(instance.instanceId())
                        .agentStatusTypes(AgentStatusType.OFFLINE))
                .agentStatusSummaryList().stream()
                .filter(s -> s.type() == AgentStatusType.OFFLINE)
                .findFirst()
                .orElse(null));
        if (found == null) {
            throw new ConnectFailure("NoOfflineStatus", false, false, null);
        }
        offlineStatus = found;
        return found;
    }

    /** Whether a status the page reported is the instance's OFFLINE-type status (by ARN, or by name without one). */
    public boolean isOffline(AgentStatus status) throws ConnectFailure {
        AgentStatusSummary offline = offlineStatus();
        return status.arn() != null ? status.arn().endsWith("/" + offline.id()) : status.name().equals(offline.name());
    }

    /** Whether this snapshot shows the agent Offline now, or with Offline already queued as next status. */
    public boolean isOfflineOrQueued(AgentSnapshot snapshot) throws ConnectFailure {
        AgentStatusSummary offline = offlineStatus();
        return (offline.id().equals(snapshot.statusId()) && snapshot.nextStatusName().isEmpty())
                || snapshot.nextStatusName().filter(offline.name()::equals).isPresent();
    }

    /**
     * The agents' current data, by user id, in one GetCurrentUserData call per 100 agents. An agent Connect
     * does not report is absent from the map.
     */
    public Map<String, AgentSnapshot> currentData(List<String> userIds) throws ConnectFailure {
        Map<String, AgentSnapshot> snapshots = new HashMap<>();
        for (int from = 0; from < userIds.size(); from += MAX_AGENTS_PER_LOOKUP) {
            List<String> batch = userIds.subList(from, Math.min(userIds.size(), from + MAX_AGENTS_PER_LOOKUP));
            String token = null;
            do {
                String next = token;
                pace(GET_CURRENT_USER_DATA);
                GetCurrentUserDataResponse page = call(() -> connect.getCurrentUserData(r -> r
                        .instanceId(instance.instanceId()).filters(f -> f.agents(batch)).maxResults(100).nextToken(next)));
                for (UserData data : page.userDataList()) {
                    if (data.user() == null || data.status() == null) {
                        continue;
                    }
                    snapshots.put(data.user().id(), snapshot(data));
                }
                token = page.nextToken();
            } while (token != null);
        }
        return snapshots;
    }

    private static AgentSnapshot snapshot(UserData data) {
        String arn = data.status().statusArn();
        return new AgentSnapshot(data.user().id(), arn == null ? "" : arn.substring(arn.lastIndexOf('/') + 1),
                data.status().statusName(), Optional.ofNullable(data.nextStatus()), !data.contacts().isEmpty(),
                Optional.ofNullable(data.routingProfile()).map(p -> p.id()));
    }

    /**
     * GetCurrentUserData for one agent, if its turn in the budget comes within {@code maxWait} (a beacon must not
     * wait long); empty when Connect does not report the agent.
     *
     * @throws ConnectFailure {@link ConnectFailure#NO_TURN} when no turn came in time (nothing was asked)
     */
    public Optional<AgentSnapshot> currentDataWithin(String userId, java.time.Duration maxWait) throws ConnectFailure {
        if (!turnWithin(GET_CURRENT_USER_DATA, maxWait)) {
            throw new ConnectFailure(ConnectFailure.NO_TURN, true, false, null);
        }
        GetCurrentUserDataResponse page = call(() -> connect.getCurrentUserData(r -> r
                .instanceId(instance.instanceId()).filters(f -> f.agents(userId)).maxResults(1)));
        return page.userDataList().stream().filter(d -> d.user() != null && d.status() != null && userId.equals(d.user().id()))
                .findFirst().map(ConnectAgentStatus::snapshot);
    }

    /**
     * Takes the turn for one PutUserStatus under the pacer, waiting for it only if it comes within {@code maxWait};
     * false (nothing taken) when it would come later. A caller that shares the quota (the reconciler) takes its
     * turn here, where it dispatches, so it always knows how many calls are still queued.
     */
    public boolean turnToSetOffline(java.time.Duration maxWait) throws ConnectFailure {
        return turnWithin(PUT_USER_STATUS, maxWait);
    }

    /** A turn for {@code operation} if it comes within {@code maxWait}; false (nothing taken) when it would come later. */
    private boolean turnWithin(String operation, java.time.Duration maxWait) throws ConnectFailure {
        try {
            return pacer.acquireWithin(operation, maxWait);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectFailure(ConnectFailure.INTERRUPTED, true, false, e);
        }
    }

    /**
     * Sets the agent Offline (the caller took its turn, {@link #turnToSetOffline}). If the agent is on a contact,
     * Connect makes Offline their next status instead. A 404 may mean the Offline status was replaced (deleted
     * and created again, so its id changed): the status is looked up again and, when its id did change, the call
     * is made once more with the new one.
     */
    public void setOffline(String userId) throws ConnectFailure {
        String statusId = offlineStatusId();
        try {
            putUserStatus(userId, statusId);
        } catch (ConnectFailure failure) {
            if (!(failure.getCause() instanceof ResourceNotFoundException)) {
                throw failure;
            }
            offlineStatus = null;
            String fresh = offlineStatusId();
            if (fresh.equals(statusId)) {
                throw failure; // the status is there: it is the user that is gone
            }
            pace(PUT_USER_STATUS);
            putUserStatus(userId, fresh);
        }
    }

    private void putUserStatus(String userId, String statusId) throws ConnectFailure {
        call(() -> connect.putUserStatus(r -> r.instanceId(instance.instanceId()).userId(userId).agentStatusId(statusId)));
    }

    /** The user's routing profile id, or empty when the user does not exist in the instance. */
    public Optional<String> routingProfileOf(String userId) throws ConnectFailure {
        return describeUser(userId).flatMap(ConnectUser::routingProfileId);
    }

    /** A user as DescribeUser reports them: the Username (what sign-in names them) and their routing profile. */
    public record ConnectUser(String username, Optional<String> routingProfileId) {
    }

    /** DescribeUser; empty when the instance has no such user. */
    public Optional<ConnectUser> describeUser(String userId) throws ConnectFailure {
        pace("DescribeUser");
        return describeUserOnTurn(userId);
    }

    /** DescribeUser for a caller that took its turn itself (a register, which waits for it only so long). */
    public Optional<ConnectUser> describeUserOnTurn(String userId) throws ConnectFailure {
        try {
            User user = call(() -> connect.describeUser(r -> r.instanceId(instance.instanceId()).userId(userId)).user());
            return Optional.of(new ConnectUser(user.username(), Optional.ofNullable(user.routingProfileId())));
        } catch (ConnectFailure failure) {
            if (failure.getCause() instanceof ResourceNotFoundException) {
                return Optional.empty();
            }
            throw failure;
        }
    }

    private void pace(String operation) throws ConnectFailure {
        try {
            pacer.acquire(operation);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectFailure(ConnectFailure.INTERRUPTED, true, false, e);
        } catch (SdkException e) {
            // The shared budget could not be read (a beacon has no pacer of its own to fall back on): no turn, no call.
            throw new ConnectFailure(ConnectFailure.NO_TURN, true, false, e);
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

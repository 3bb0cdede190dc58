package backstop.beacon;

import software.amazon.awssdk.services.connect.ConnectClient;
import software.amazon.awssdk.services.connect.model.AgentStatusSummary;
import software.amazon.awssdk.services.connect.model.AgentStatusType;
import software.amazon.awssdk.services.connect.model.DescribeUserRequest;
import software.amazon.awssdk.services.connect.model.DescribeUserResponse;
import software.amazon.awssdk.services.connect.model.InternalServiceException;
import software.amazon.awssdk.services.connect.model.ListAgentStatusesRequest;
import software.amazon.awssdk.services.connect.model.ListAgentStatusesResponse;
import software.amazon.awssdk.services.connect.model.PutUserStatusRequest;
import software.amazon.awssdk.services.connect.model.PutUserStatusResponse;
import software.amazon.awssdk.services.connect.model.ResourceNotFoundException;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** An in-memory ConnectClient for unit tests: records requests, answers from a map of users. */
final class FakeConnect implements ConnectClient {
    final Map<String, String> routingProfiles = new HashMap<>();
    /** Connect usernames by user id; a known user without one here is named after their id. */
    final Map<String, String> usernames = new HashMap<>();
    /** When set, DescribeUser is throttled (429). */
    boolean throttleDescribes;
    final List<DescribeUserRequest> describes = new ArrayList<>();
    final List<PutUserStatusRequest> puts = new ArrayList<>();
    boolean failPuts;
    /** When set, PutUserStatus answers this HTTP status: 429 throttled, 403 access denied (retrying cannot fix). */
    int failStatus;

    @Override
    public DescribeUserResponse describeUser(DescribeUserRequest request) {
        describes.add(request);
        if (throttleDescribes) {
            throw software.amazon.awssdk.services.connect.model.ThrottlingException.builder().message("slow down").statusCode(429).build();
        }
        String profile = routingProfiles.get(request.userId());
        if (profile == null) {
            throw ResourceNotFoundException.builder().message("User not found").statusCode(404).build();
        }
        return DescribeUserResponse.builder().user(u -> u.id(request.userId())
                .username(usernames.getOrDefault(request.userId(), request.userId())).routingProfileId(profile)).build();
    }

    /** Agents GetCurrentUserData reports (logged in), with their status id; their routing profile from the map above. */
    final Map<String, String> statusIds = new HashMap<>();
    final List<software.amazon.awssdk.services.connect.model.GetCurrentUserDataRequest> lookups = new ArrayList<>();

    @Override
    public software.amazon.awssdk.services.connect.model.GetCurrentUserDataResponse getCurrentUserData(
            software.amazon.awssdk.services.connect.model.GetCurrentUserDataRequest request) {
        lookups.add(request);
        List<software.amazon.awssdk.services.connect.model.UserData> data = new ArrayList<>();
        for (String userId : request.filters().agents()) {
            String status = statusIds.get(userId);
            if (status != null) {
                data.add(software.amazon.awssdk.services.connect.model.UserData.builder()
                        .user(u -> u.id(userId)).routingProfile(r -> r.id(routingProfiles.get(userId)))
                        .status(st -> st.statusArn("arn:aws:connect:us-east-1:123456789012:instance/inst-1/agent-state/" + status)
                                .statusName(status)).build());
            }
        }
        return software.amazon.awssdk.services.connect.model.GetCurrentUserDataResponse.builder().userDataList(data).build();
    }

    @Override
    public ListAgentStatusesResponse listAgentStatuses(ListAgentStatusesRequest request) {
        return ListAgentStatusesResponse.builder().agentStatusSummaryList(
                AgentStatusSummary.builder().id("offline-id").name("Gone").type(AgentStatusType.OFFLINE).build()).build();
    }

    @Override
    public PutUserStatusResponse putUserStatus(PutUserStatusRequest request) {
        puts.add(request);
        if (failPuts) {
            throw InternalServiceException.builder().message("boom").statusCode(500).build();
        }
        if (failStatus == 429) {
            throw software.amazon.awssdk.services.connect.model.ThrottlingException.builder().message("slow down").statusCode(429).build();
        }
        if (failStatus == 403) {
            throw software.amazon.awssdk.services.connect.model.AccessDeniedException.builder().message("no").statusCode(403).build();
        }
        return PutUserStatusResponse.builder().build();
    }

    @Override
    public String serviceName() {
        return "connect";
    }

    @Override
    public void close() {
    }
}

package backstop.core.connect;

import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.services.connect.ConnectClient;
import software.amazon.awssdk.services.connect.model.AgentStatusSummary;
import software.amazon.awssdk.services.connect.model.AgentStatusType;
import software.amazon.awssdk.services.connect.model.ConnectException;
import software.amazon.awssdk.services.connect.model.DescribeUserRequest;
import software.amazon.awssdk.services.connect.model.DescribeUserResponse;
import software.amazon.awssdk.services.connect.model.ListAgentStatusesRequest;
import software.amazon.awssdk.services.connect.model.ListAgentStatusesResponse;
import software.amazon.awssdk.services.connect.model.PutUserStatusRequest;
import software.amazon.awssdk.services.connect.model.PutUserStatusResponse;
import software.amazon.awssdk.services.connect.model.ResourceNotFoundException;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A ConnectClient for unit tests: PutUserStatus answers from a script, the Offline status can be replaced. */
public final class ScriptedConnect implements ConnectClient {
    public final List<PutUserStatusRequest> puts = new java.util.concurrent.CopyOnWriteArrayList<>();
    public final List<DescribeUserRequest> describes = new ArrayList<>();
    public int listCalls;
    /** The OFFLINE-type status's id ListAgentStatuses reports now. */
    public String offlineId = "offline-1";
    /** What the next PutUserStatus calls answer: null succeeds, else that HTTP status. */
    public final Deque<Integer> putAnswers = new ArrayDeque<>();
    public final Map<String, String> routingProfiles = new HashMap<>();
    public Integer describeAnswer;
    /** What ListAgentStatuses answers: null lists the statuses, else that HTTP status. */
    public Integer listAnswer;
    /** Runs as each PutUserStatus arrives (a test records the time, or holds the call). */
    public java.util.function.Consumer<PutUserStatusRequest> onPut = request -> { };
    /** Runs as each GetCurrentUserData arrives (a test moves its clock: a slow answer). */
    public Runnable onLookup = () -> { };

    public static RuntimeException error(int status) {
        if (status == 404) {
            return ResourceNotFoundException.builder().statusCode(404).message("not found")
                    .awsErrorDetails(AwsErrorDetails.builder().errorCode("ResourceNotFoundException").build()).build();
        }
        String code = status == 429 ? "ThrottlingException" : status == 403 ? "AccessDeniedException" : "InternalServiceException";
        return ConnectException.builder().statusCode(status).message("scripted")
                .awsErrorDetails(AwsErrorDetails.builder().errorCode(code).build()).build();
    }

    @Override
    public PutUserStatusResponse putUserStatus(PutUserStatusRequest request) {
        onPut.accept(request);
        puts.add(request);
        Integer answer = putAnswers.poll();
        if (answer != null) {
            throw error(answer);
        }
        return PutUserStatusResponse.builder().build();
    }

    @Override
    public ListAgentStatusesResponse listAgentStatuses(ListAgentStatusesRequest request) {
        listCalls++;
        if (listAnswer != null) {
            throw error(listAnswer);
        }
        return ListAgentStatusesResponse.builder().agentStatusSummaryList(
                AgentStatusSummary.builder().id("available-1").name("Available").type(AgentStatusType.ROUTABLE).build(),
                AgentStatusSummary.builder().id(offlineId).name("Offline").type(AgentStatusType.OFFLINE).build()).build();
    }

    @Override
    public DescribeUserResponse describeUser(DescribeUserRequest request) {
        describes.add(request);
        if (describeAnswer != null) {
            throw error(describeAnswer);
        }
        String profile = routingProfiles.get(request.userId());
        if (profile == null) {
            throw error(404);
        }
        return DescribeUserResponse.builder().user(u -> u.id(request.userId()).username(request.userId() + "@example.com")
                .routingProfileId(profile)).build();
    }

    /** GetCurrentUserData: every asked agent Available, two to a page (paged with a next token). */
    public final List<software.amazon.awssdk.services.connect.model.GetCurrentUserDataRequest> lookups = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** When set, GetCurrentUserData answers this HTTP status. */
    public Integer lookupAnswer;

    @Override
    public software.amazon.awssdk.services.connect.model.GetCurrentUserDataResponse getCurrentUserData(
            software.amazon.awssdk.services.connect.model.GetCurrentUserDataRequest request) {
        onLookup.run();
        lookups.add(request);
        if (lookupAnswer != null) {
            throw error(lookupAnswer);
        }
        List<String> agents = request.filters().agents();
        int from = request.nextToken() == null ? 0 : Integer.parseInt(request.nextToken());
        List<software.amazon.awssdk.services.connect.model.UserData> page = new ArrayList<>();
        for (int i = from; i < Math.min(agents.size(), from + 2); i++) {
            String id = agents.get(i);
            if (id.startsWith("unreported")) {
                page.add(software.amazon.awssdk.services.connect.model.UserData.builder().user(u -> u.id(id)).build());
                continue;
            }
            page.add(software.amazon.awssdk.services.connect.model.UserData.builder().user(u -> u.id(id))
                    .status(s -> s.statusName(id.startsWith("busy") ? "Offline" : "Available")
                            .statusArn("arn:aws:connect:us-east-1:123456789012:instance/i-1/agent-state/" + (id.startsWith("busy") ? offlineId : "available-1")))
                    .nextStatus(id.startsWith("busy") ? "Offline" : null)
                    .contacts(id.startsWith("busy") ? List.of(software.amazon.awssdk.services.connect.model.AgentContactReference.builder().contactId("c").build()) : List.of())
                    .build());
        }
        String next = from + 2 < agents.size() ? Integer.toString(from + 2) : null;
        return software.amazon.awssdk.services.connect.model.GetCurrentUserDataResponse.builder().userDataList(page).nextToken(next).build();
    }

    @Override
    public String serviceName() {
        return "connect";
    }

    @Override
    public void close() {
    }
}

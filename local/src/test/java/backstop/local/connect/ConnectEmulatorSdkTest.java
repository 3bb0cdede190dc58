package backstop.local.connect;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AnonymousCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.connect.ConnectClient;
import software.amazon.awssdk.services.connect.model.AccessDeniedException;
import software.amazon.awssdk.services.connect.model.AgentStatusSummary;
import software.amazon.awssdk.services.connect.model.AgentStatusType;
import software.amazon.awssdk.services.connect.model.ConnectException;
import software.amazon.awssdk.services.connect.model.GetCurrentUserDataResponse;
import software.amazon.awssdk.services.connect.model.InternalServiceException;
import software.amazon.awssdk.services.connect.model.InvalidParameterException;
import software.amazon.awssdk.services.connect.model.ListUsersResponse;
import software.amazon.awssdk.services.connect.model.ResourceNotFoundException;
import software.amazon.awssdk.services.connect.model.ThrottlingException;
import software.amazon.awssdk.services.connect.model.UserData;
import software.amazon.awssdk.services.connect.model.UserSummary;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** The Connect emulator through the real AWS SDK for Java v2 ConnectClient, nothing else in between. */
class ConnectEmulatorSdkTest {
    static final String INSTANCE = "11111111-2222-4333-8444-555555555555";
    static ConnectEmulator emulator;
    static ConnectClient connect;

    @BeforeAll
    static void start() throws IOException {
        emulator = ConnectEmulator.start(0);
        connect = client(StaticCredentialsProvider.create(AwsBasicCredentials.create("testing", "testing")));
    }

    @AfterAll
    static void stop() {
        connect.close();
        emulator.close();
    }

    @BeforeEach
    void seed() {
        emulator.reset();
        emulator.setQuota(Quota.OFF);
        emulator.createInstance(INSTANCE, "eu-west-2", "210987654321");
        emulator.addAgent(INSTANCE, "agent-1", "ada", "Ada", "Lovelace", "rp-sales", "Available");
        emulator.addAgent(INSTANCE, "agent-2", "alan", "Alan", "Turing", "rp-support", "Offline");
    }

    static ConnectClient client(software.amazon.awssdk.auth.credentials.AwsCredentialsProvider credentials) {
        return ConnectClient.builder()
                .endpointOverride(emulator.endpoint())
                .region(Region.EU_WEST_2)
                .credentialsProvider(credentials)
                .httpClient(UrlConnectionHttpClient.create())
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()))
                .build();
    }

    @Test
    void listAgentStatuses_should_filterByType_when_offlineTypeAsked() {
        var response = connect.listAgentStatuses(r -> r.instanceId(INSTANCE).agentStatusTypes(AgentStatusType.OFFLINE));

        assertThat(response.agentStatusSummaryList()).singleElement().satisfies(s -> {
            assertThat(s.name()).isEqualTo("Offline");
            assertThat(s.type()).isEqualTo(AgentStatusType.OFFLINE);
            assertThat(s.id()).isEqualTo(emulator.statusId(INSTANCE, backstop.local.connect.AgentStatusType.OFFLINE));
            assertThat(s.arn()).isEqualTo("arn:aws:connect:eu-west-2:210987654321:instance/" + INSTANCE
                    + "/agent-state/" + s.id());
            assertThat(s.lastModifiedRegion()).isEqualTo("eu-west-2");
            assertThat(s.lastModifiedTime()).isCloseTo(Instant.now(), within(10, java.time.temporal.ChronoUnit.SECONDS));
        });
    }

    @Test
    void listAgentStatuses_should_page_when_maxResultsIsSmall() {
        for (int i = 0; i < 4; i++) {
            emulator.addStatus(INSTANCE, "Lunch " + i, backstop.local.connect.AgentStatusType.CUSTOM);
        }
        List<String> names = new ArrayList<>();
        for (var page : connect.listAgentStatusesPaginator(r -> r.instanceId(INSTANCE).maxResults(2))) {
            assertThat(page.agentStatusSummaryList()).hasSizeLessThanOrEqualTo(2);
            page.agentStatusSummaryList().stream().map(AgentStatusSummary::name).forEach(names::add);
        }
        assertThat(names).containsExactly("Available", "Offline", "Break", "Lunch 0", "Lunch 1", "Lunch 2", "Lunch 3");
    }

    @Test
    void listAgentStatuses_should_findOfflineByType_when_offlineIsRenamed() {
        String offlineId = emulator.statusId(INSTANCE, backstop.local.connect.AgentStatusType.OFFLINE);
        emulator.renameStatus(INSTANCE, offlineId, "Gone home");

        var summary = connect.listAgentStatuses(r -> r.instanceId(INSTANCE).agentStatusTypes(AgentStatusType.OFFLINE))
                .agentStatusSummaryList().getFirst();

        assertThat(summary.id()).isEqualTo(offlineId);
        assertThat(summary.name()).isEqualTo("Gone home");
    }

    @Test
    void describeAgentStatus_should_returnTheStatus_when_itExists() {
        String breakId = emulator.statusIdByName(INSTANCE, "Break");

        var status = connect.describeAgentStatus(r -> r.instanceId(INSTANCE).agentStatusId(breakId)).agentStatus();

        assertThat(status.agentStatusId()).isEqualTo(breakId);
        assertThat(status.agentStatusARN()).endsWith("/agent-state/" + breakId);
        assertThat(status.name()).isEqualTo("Break");
        assertThat(status.type()).isEqualTo(AgentStatusType.CUSTOM);
        assertThat(status.stateAsString()).isEqualTo("ENABLED");
    }

    @Test
    void describeUser_should_returnUser_when_itExists() {
        var user = connect.describeUser(r -> r.instanceId(INSTANCE).userId("agent-1")).user();

        assertThat(user.id()).isEqualTo("agent-1");
        assertThat(user.arn()).isEqualTo("arn:aws:connect:eu-west-2:210987654321:instance/" + INSTANCE + "/agent/agent-1");
        assertThat(user.username()).isEqualTo("ada");
        assertThat(user.identityInfo().firstName()).isEqualTo("Ada");
        assertThat(user.routingProfileId()).isEqualTo("rp-sales");
        assertThat(user.phoneConfig().phoneTypeAsString()).isEqualTo("SOFT_PHONE");
    }

    @Test
    void listUsers_should_pageThroughEveryUser_when_moreThanOnePage() {
        for (int i = 0; i < 5; i++) {
            emulator.addAgent(INSTANCE, null, "user" + i, "U", "" + i, null, null);
        }
        ListUsersResponse first = connect.listUsers(r -> r.instanceId(INSTANCE).maxResults(3));
        assertThat(first.userSummaryList()).hasSize(3);
        assertThat(first.nextToken()).isNotBlank();

        List<String> usernames = new ArrayList<>();
        connect.listUsersPaginator(r -> r.instanceId(INSTANCE).maxResults(3)).userSummaryList()
                .stream().map(UserSummary::username).forEach(usernames::add);
        assertThat(usernames).containsExactly("ada", "alan", "user0", "user1", "user2", "user3", "user4");
    }

    @Test
    void putUserStatus_should_changeCurrentStatus_when_agentIsNotOnContact() {
        String offlineId = emulator.statusId(INSTANCE, backstop.local.connect.AgentStatusType.OFFLINE);

        connect.putUserStatus(r -> r.instanceId(INSTANCE).userId("agent-1").agentStatusId(offlineId));

        assertThat(emulator.agentView(INSTANCE, "agent-1").statusName()).isEqualTo("Offline");
        assertThat(emulator.calls(ConnectEmulator.PUT_USER_STATUS)).singleElement().satisfies(call -> {
            assertThat(call.userId()).isEqualTo("agent-1");
            assertThat(call.statusId()).isEqualTo(offlineId);
            assertThat(call.ok()).isTrue();
        });
    }

    @Test
    void putUserStatus_should_setNextStatusOnly_when_agentIsOnLiveContact() {
        String offlineId = emulator.statusId(INSTANCE, backstop.local.connect.AgentStatusType.OFFLINE);
        emulator.startContact(INSTANCE, "agent-1");

        connect.putUserStatus(r -> r.instanceId(INSTANCE).userId("agent-1").agentStatusId(offlineId));

        UserData data = userData("agent-1");
        assertThat(data.status().statusName()).isEqualTo("Available");
        assertThat(data.nextStatus()).isEqualTo("Offline");
        assertThat(data.contacts()).singleElement().satisfies(c -> assertThat(c.agentContactStateAsString()).isEqualTo("CONNECTED"));

        emulator.endContact(INSTANCE, "agent-1");
        UserData after = userData("agent-1");
        assertThat(after.status().statusName()).isEqualTo("Offline");
        assertThat(after.nextStatus()).isNull();
        assertThat(after.contacts()).isEmpty();
    }

    @Test
    void getCurrentUserData_should_reportStatusAndRoutingProfile_when_filteredByAgentIdsAndArns() {
        String arn2 = "arn:aws:connect:eu-west-2:210987654321:instance/" + INSTANCE + "/agent/agent-2";

        GetCurrentUserDataResponse response = connect.getCurrentUserData(r -> r.instanceId(INSTANCE)
                .filters(f -> f.agents("agent-1", arn2, "no-such-agent")));

        assertThat(response.userDataList()).extracting(d -> d.user().id()).containsExactly("agent-1", "agent-2");
        assertThat(response.approximateTotalCount()).isEqualTo(2L);
        UserData ada = response.userDataList().getFirst();
        assertThat(ada.status().statusName()).isEqualTo("Available");
        assertThat(ada.status().statusArn()).endsWith("/agent-state/" + emulator.statusIdByName(INSTANCE, "Available"));
        assertThat(ada.status().statusStartTimestamp()).isNotNull();
        assertThat(ada.routingProfile().id()).isEqualTo("rp-sales");
        assertThat(ada.availableSlotsByChannelAsStrings()).containsEntry("VOICE", 1);
        assertThat(response.userDataList().get(1).status().statusName()).isEqualTo("Offline");
    }

    @Test
    void getCurrentUserData_should_page_when_maxResultsIsSmall() {
        for (int i = 0; i < 3; i++) {
            emulator.addAgent(INSTANCE, "extra-" + i, "x" + i, "X", "" + i, "rp-sales", "Available");
        }
        List<String> seen = new ArrayList<>();
        String token = null;
        do {
            String next = token;
            var page = connect.getCurrentUserData(r -> r.instanceId(INSTANCE).maxResults(2).nextToken(next)
                    .filters(f -> f.routingProfiles("rp-sales")));
            page.userDataList().forEach(d -> seen.add(d.user().id()));
            token = page.nextToken();
        } while (token != null);
        assertThat(seen).containsExactly("agent-1", "extra-0", "extra-1", "extra-2");
    }

    @Test
    void errors_should_surfaceAsTypedSdkExceptions_when_resourcesAreUnknown() {
        String offlineId = emulator.statusId(INSTANCE, backstop.local.connect.AgentStatusType.OFFLINE);

        assertThatThrownBy(() -> connect.describeUser(r -> r.instanceId("no-such-instance").userId("agent-1")))
                .isInstanceOf(ResourceNotFoundException.class)
                .satisfies(e -> assertThat(((ConnectException) e).statusCode()).isEqualTo(404))
                .hasMessageContaining("Instance not found");
        assertThatThrownBy(() -> connect.putUserStatus(r -> r.instanceId(INSTANCE).userId("nobody").agentStatusId(offlineId)))
                .isInstanceOf(ResourceNotFoundException.class).hasMessageContaining("User not found");
        assertThatThrownBy(() -> connect.putUserStatus(r -> r.instanceId(INSTANCE).userId("agent-1").agentStatusId("nope")))
                .isInstanceOf(ResourceNotFoundException.class).hasMessageContaining("Agent status not found");
        assertThatThrownBy(() -> connect.describeAgentStatus(r -> r.instanceId(INSTANCE).agentStatusId("nope")))
                .isInstanceOf(ResourceNotFoundException.class);
        assertThat(emulator.agentView(INSTANCE, "agent-1").statusName()).isEqualTo("Available");
    }

    @Test
    void errors_should_beInvalidParameter_when_inputIsBad() {
        assertThatThrownBy(() -> connect.getCurrentUserData(r -> r.instanceId(INSTANCE)
                .filters(f -> f.agents("agent-1").routingProfiles("rp-sales"))))
                .isInstanceOf(InvalidParameterException.class).hasMessageContaining("maximum of one filter");
        List<String> tooMany = new ArrayList<>();
        for (int i = 0; i < 101; i++) {
            tooMany.add("a" + i);
        }
        assertThatThrownBy(() -> connect.getCurrentUserData(r -> r.instanceId(INSTANCE).filters(f -> f.agents(tooMany))))
                .isInstanceOf(InvalidParameterException.class);
        assertThatThrownBy(() -> connect.listUsers(r -> r.instanceId(INSTANCE).maxResults(1001)))
                .isInstanceOf(InvalidParameterException.class);
        assertThatThrownBy(() -> connect.listUsers(r -> r.instanceId(INSTANCE).nextToken("forged")))
                .isInstanceOf(InvalidParameterException.class);
    }

    @Test
    void quota_should_allowBurstThenThrottle_when_callsComeFasterThanTheRate() {
        emulator.setQuota(new Quota(true, 2, 5));
        String offlineId = emulator.statusId(INSTANCE, backstop.local.connect.AgentStatusType.OFFLINE);
        int ok = 0;
        int throttled = 0;
        for (int i = 0; i < 8; i++) {
            try {
                connect.putUserStatus(r -> r.instanceId(INSTANCE).userId("agent-2").agentStatusId(offlineId));
                ok++;
            } catch (ThrottlingException e) {
                assertThat(e.statusCode()).isEqualTo(429);
                throttled++;
            }
        }
        // 8 calls in well under 0.5 s: the burst of 5 passes, and at most one more token has refilled.
        assertThat(ok).isBetween(5, 6);
        assertThat(throttled).isEqualTo(8 - ok);
        assertThat(emulator.calls(ConnectEmulator.PUT_USER_STATUS)).filteredOn(c -> c.outcome().equals("ThrottlingException"))
                .hasSize(throttled);
        // Quotas are per operation, as in Connect: another operation still has its own burst.
        assertThat(connect.describeUser(r -> r.instanceId(INSTANCE).userId("agent-1")).user().id()).isEqualTo("agent-1");
    }

    @Test
    void faults_should_failTheConfiguredShare_when_errorRateIsSet() {
        emulator.setFault(ConnectEmulator.DESCRIBE_USER, OperationFault.errors(1.0));

        assertThatThrownBy(() -> connect.describeUser(r -> r.instanceId(INSTANCE).userId("agent-1")))
                .isInstanceOf(InternalServiceException.class)
                .satisfies(e -> assertThat(((ConnectException) e).statusCode()).isEqualTo(500));
        emulator.setFault(ConnectEmulator.DESCRIBE_USER, OperationFault.errors(0.3));
        int failures = 0;
        for (int i = 0; i < 200; i++) {
            try {
                connect.describeUser(r -> r.instanceId(INSTANCE).userId("agent-1"));
            } catch (InternalServiceException e) {
                failures++;
            }
        }
        assertThat(failures).isBetween(30, 95); // 30% of 200 = 60, far outside chance at these bounds
    }

    @Test
    void faults_should_delayAnswers_when_latencyIsSet() {
        emulator.setFault(ConnectEmulator.DESCRIBE_USER, OperationFault.latency(300));

        long start = System.nanoTime();
        connect.describeUser(r -> r.instanceId(INSTANCE).userId("agent-1"));
        long millis = (System.nanoTime() - start) / 1_000_000;

        assertThat(millis).isGreaterThanOrEqualTo(300);
    }

    @Test
    void requests_should_beDenied_when_unsigned() {
        try (ConnectClient anonymous = client(AnonymousCredentialsProvider.create())) {
            assertThatThrownBy(() -> anonymous.describeUser(r -> r.instanceId(INSTANCE).userId("agent-1")))
                    .isInstanceOf(AccessDeniedException.class)
                    .satisfies(e -> assertThat(((ConnectException) e).statusCode()).isEqualTo(403));
        }
    }

    private static UserData userData(String userId) {
        return connect.getCurrentUserData(r -> r.instanceId(INSTANCE).filters(f -> f.agents(userId)))
                .userDataList().getFirst();
    }
}

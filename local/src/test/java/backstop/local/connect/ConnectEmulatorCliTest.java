package backstop.local.connect;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The emulator through the AWS CLI, which nobody on this team wrote: if botocore (built from the service
 * model) parses every answer, the wire contract is right independently of our own SDK usage.
 */
class ConnectEmulatorCliTest {
    static final String INSTANCE = "00000000-0000-4000-8000-0000000000c1";
    static final ObjectMapper JSON = new ObjectMapper();
    static ConnectEmulator emulator;

    @BeforeAll
    static void start() throws IOException {
        emulator = ConnectEmulator.start(0);
        emulator.setQuota(Quota.OFF);
        emulator.createInstance(INSTANCE, "us-east-1", "123456789012");
        emulator.addAgent(INSTANCE, "cli-agent", "grace", "Grace", "Hopper", "rp-1", "Available");
    }

    @AfterAll
    static void stop() {
        emulator.close();
    }

    @Test
    void listUsers_should_parse_when_calledThroughTheCli() throws Exception {
        JsonNode out = aws("list-users", "--instance-id", INSTANCE);

        assertThat(out.path("UserSummaryList").get(0).path("Username").asText()).isEqualTo("grace");
        assertThat(out.path("UserSummaryList").get(0).path("Id").asText()).isEqualTo("cli-agent");
    }

    @Test
    void listAgentStatuses_should_returnOnlyOffline_when_typeFilterGiven() throws Exception {
        JsonNode out = aws("list-agent-statuses", "--instance-id", INSTANCE, "--agent-status-types", "OFFLINE");

        assertThat(out.path("AgentStatusSummaryList")).hasSize(1);
        assertThat(out.path("AgentStatusSummaryList").get(0).path("Type").asText()).isEqualTo("OFFLINE");
        assertThat(out.path("AgentStatusSummaryList").get(0).path("Id").asText())
                .isEqualTo(emulator.statusId(INSTANCE, AgentStatusType.OFFLINE));
    }

    @Test
    void describeUser_should_parse_when_calledThroughTheCli() throws Exception {
        JsonNode out = aws("describe-user", "--instance-id", INSTANCE, "--user-id", "cli-agent");

        assertThat(out.path("User").path("IdentityInfo").path("LastName").asText()).isEqualTo("Hopper");
        assertThat(out.path("User").path("RoutingProfileId").asText()).isEqualTo("rp-1");
    }

    @Test
    void putUserStatusThenGetCurrentUserData_should_showOffline_when_calledThroughTheCli() throws Exception {
        String offlineId = emulator.statusId(INSTANCE, AgentStatusType.OFFLINE);

        aws("put-user-status", "--instance-id", INSTANCE, "--user-id", "cli-agent", "--agent-status-id", offlineId);
        JsonNode out = aws("get-current-user-data", "--instance-id", INSTANCE, "--filters", "Agents=cli-agent");

        JsonNode data = out.path("UserDataList").get(0);
        assertThat(data.path("User").path("Id").asText()).isEqualTo("cli-agent");
        assertThat(data.path("Status").path("StatusName").asText()).isEqualTo("Offline");
        // Sent as epoch seconds; botocore's timestamp parser read it and the CLI printed it as ISO 8601.
        String started = data.path("Status").path("StatusStartTimestamp").asText();
        assertThat(java.time.OffsetDateTime.parse(started).toInstant())
                .isCloseTo(java.time.Instant.now(), org.assertj.core.api.Assertions.within(2, java.time.temporal.ChronoUnit.MINUTES));
    }

    static JsonNode aws(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("connect"));
        command.addAll(List.of(args));
        String stdout = backstop.local.AwsCli.run(emulator.endpoint(), command.toArray(String[]::new));
        return stdout.isBlank() ? JSON.createObjectNode() : JSON.readTree(stdout);
    }
}

package backstop.core.connect;

import backstop.core.agent.AgentStatus;
import backstop.core.agent.InstanceRef;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.exception.SdkClientException;

import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConnectAgentStatusTest {
    static final InstanceRef INSTANCE = InstanceRef.parseArn("arn:aws:connect:us-east-1:123456789012:instance/i-1");

    final ScriptedConnect connect = new ScriptedConnect();
    final ConnectAgentStatus gateway = new ConnectAgentStatus(connect, INSTANCE);

    @Test
    void setOffline_should_putTheOfflineTypeStatus_lookingItUpOnce() throws Exception {
        gateway.setOffline("u-1");
        gateway.setOffline("u-2");

        assertThat(connect.puts).extracting(r -> r.userId() + ":" + r.agentStatusId() + ":" + r.instanceId())
                .containsExactly("u-1:offline-1:i-1", "u-2:offline-1:i-1");
        assertThat(connect.listCalls).as("cached per container").isEqualTo(1);
    }

    @Test
    void setOffline_should_lookTheStatusUpAgainAndRetryOnce_when_itWasReplaced() throws Exception {
        gateway.offlineStatusId();
        connect.offlineId = "offline-2";
        connect.putAnswers.add(404);

        gateway.setOffline("u-1");

        assertThat(connect.puts).extracting(r -> r.agentStatusId()).containsExactly("offline-1", "offline-2");
        assertThat(connect.listCalls).isEqualTo(2);
    }

    @Test
    void setOffline_should_failNotRetryable_when_theUserIsGone_andTheStatusUnchanged() {
        connect.putAnswers.add(404);

        assertThatThrownBy(() -> gateway.setOffline("gone")).isInstanceOfSatisfying(ConnectFailure.class, f -> {
            assertThat(f.code()).isEqualTo("ResourceNotFoundException (404)");
            assertThat(f.retryable()).isFalse();
            assertThat(f.throttled()).isFalse();
        });
        assertThat(connect.puts).hasSize(1);
    }

    @Test
    void failures_should_beClassified_throttledRetryable_serverRetryable_refusedFinal_unreachableRetryable() {
        assertThat(ConnectAgentStatus.classify((software.amazon.awssdk.core.exception.SdkException) ScriptedConnect.error(429)))
                .satisfies(f -> {
                    assertThat(f.throttled()).isTrue();
                    assertThat(f.retryable()).isTrue();
                    assertThat(f.code()).isEqualTo("ThrottlingException (429)");
                });
        assertThat(ConnectAgentStatus.classify((software.amazon.awssdk.core.exception.SdkException) ScriptedConnect.error(500)))
                .satisfies(f -> {
                    assertThat(f.throttled()).isFalse();
                    assertThat(f.retryable()).isTrue();
                });
        assertThat(ConnectAgentStatus.classify((software.amazon.awssdk.core.exception.SdkException) ScriptedConnect.error(403)))
                .satisfies(f -> {
                    assertThat(f.retryable()).isFalse();
                    assertThat(f.code()).isEqualTo("AccessDeniedException (403)");
                });
        assertThat(ConnectAgentStatus.classify(SdkClientException.create("connection refused")))
                .satisfies(f -> {
                    assertThat(f.retryable()).isTrue();
                    assertThat(f.code()).isEqualTo("ConnectUnreachable");
                });
    }

    @Test
    void isOffline_should_matchByArn_orByNameWithoutOne() throws Exception {
        String arn = INSTANCE.arn() + "/agent-state/offline-1";
        assertThat(gateway.isOffline(new AgentStatus("Whatever", arn))).isTrue();
        assertThat(gateway.isOffline(new AgentStatus("Offline", INSTANCE.arn() + "/agent-state/available-1"))).isFalse();
        assertThat(gateway.isOffline(new AgentStatus("Offline", null))).isTrue();
        assertThat(gateway.isOffline(new AgentStatus("Available", null))).isFalse();
    }

    @Test
    void isOfflineOrQueued_should_beTrue_onlyForOfflineWithNothingQueued_orOfflineQueued() throws Exception {
        assertThat(gateway.isOfflineOrQueued(new AgentSnapshot("u", "offline-1", "Offline", Optional.empty(), false))).isTrue();
        assertThat(gateway.isOfflineOrQueued(new AgentSnapshot("u", "offline-1", "Offline", Optional.of("Available"), false))).isFalse();
        assertThat(gateway.isOfflineOrQueued(new AgentSnapshot("u", "available-1", "Available", Optional.of("Offline"), true))).isTrue();
        assertThat(gateway.isOfflineOrQueued(new AgentSnapshot("u", "available-1", "Available", Optional.empty(), false))).isFalse();
    }

    @Test
    void describeUser_should_giveUsernameAndProfile_orNothingForAnUnknownUser_andFailOnThrottling() throws Exception {
        connect.routingProfiles.put("u-1", "rp-sales");

        assertThat(gateway.describeUser("u-1")).contains(new ConnectAgentStatus.ConnectUser("u-1@example.com", Optional.of("rp-sales")));
        assertThat(gateway.routingProfileOf("u-1")).contains("rp-sales");
        assertThat(gateway.describeUser("nobody")).isEmpty();
        connect.describeAnswer = 429;
        assertThatThrownBy(() -> gateway.describeUser("u-1")).isInstanceOfSatisfying(ConnectFailure.class,
                f -> assertThat(f.throttled()).isTrue());
    }

    @Test
    void currentData_should_askAHundredAgentsAtATime_followEveryPage_andSkipAgentsWithoutAStatus() throws Exception {
        java.util.List<String> users = new java.util.ArrayList<>();
        for (int i = 0; i < 203; i++) {
            users.add((i % 50 == 7 ? "busy-" : i == 201 ? "unreported-" : "u-") + i);
        }

        java.util.Map<String, AgentSnapshot> snapshots = gateway.currentData(users);

        assertThat(connect.lookups).allSatisfy(r -> {
            assertThat(r.instanceId()).isEqualTo("i-1");
            assertThat(r.filters().agents()).hasSizeLessThanOrEqualTo(ConnectAgentStatus.MAX_AGENTS_PER_LOOKUP);
        });
        assertThat(connect.lookups.stream().map(r -> r.filters().agents()).distinct().map(java.util.List::size).toList())
                .containsExactly(100, 100, 3);
        assertThat(connect.lookups).hasSize(50 + 50 + 2);
        assertThat(snapshots).hasSize(202).doesNotContainKey("unreported-201");
        assertThat(snapshots.get("u-0")).isEqualTo(new AgentSnapshot("u-0", "available-1", "Available", Optional.empty(), false));
        assertThat(snapshots.get("busy-7")).isEqualTo(new AgentSnapshot("busy-7", "offline-1", "Offline", Optional.of("Offline"), true));
    }

    @Test
    void currentData_should_askNothingMore_when_theAgentsFillTheLastHundredExactly() throws Exception {
        java.util.List<String> users = java.util.stream.IntStream.range(0, 200).mapToObj(i -> "u-" + i).toList();

        gateway.currentData(users);

        assertThat(connect.lookups).hasSize(100).allSatisfy(r -> assertThat(r.filters().agents()).hasSize(100));
        assertThat(gateway.currentData(java.util.List.of())).isEmpty();
        assertThat(connect.lookups).as("no call for no agents").hasSize(100);
    }

    @Test
    void turnToSetOffline_should_refuse_when_theTurnComesTooLate() throws Exception {
        java.util.concurrent.atomic.AtomicLong nanos = new java.util.concurrent.atomic.AtomicLong();
        ConnectAgentStatus paced = new ConnectAgentStatus(connect, INSTANCE, new ConnectPacer(1, nanos::get, nanos::addAndGet));
        int granted = 0;
        while (paced.turnToSetOffline(java.time.Duration.ZERO)) {
            granted++;
        }
        assertThat(granted).as("the burst at 1/s").isEqualTo(ConnectPacer.burstFor(1));
        assertThat(paced.turnToSetOffline(java.time.Duration.ofSeconds(2))).as("the next turn within a second").isTrue();
    }

    @Test
    void everyConnectCall_should_takeItsTurnUnderThePacer_theRetryAfterAReplacedOfflineStatusToo() throws Exception {
        // Rate 0.5/s, burst 1: an operation's second call waits 2 s (on a moved clock: sleeping moves it on).
        java.util.concurrent.atomic.AtomicLong nanos = new java.util.concurrent.atomic.AtomicLong();
        java.util.List<Long> slept = new java.util.ArrayList<>();
        ConnectAgentStatus paced = new ConnectAgentStatus(connect, INSTANCE, new ConnectPacer(0.5, nanos::get, n -> {
            slept.add(n);
            nanos.addAndGet(n);
        }));
        paced.offlineStatusId();
        paced.describeUser("u-1");
        paced.describeUser("u-2");
        assertThat(slept).as("DescribeUser").containsExactly(2_000_000_000L);
        paced.currentData(java.util.List.of("a", "b", "c")); // two pages of two agents
        assertThat(slept).as("GetCurrentUserData, each page").containsExactly(2_000_000_000L, 2_000_000_000L);

        assertThat(paced.turnToSetOffline(java.time.Duration.ZERO)).isTrue();
        connect.putAnswers.add(404);
        connect.onPut = request -> connect.offlineId = "offline-2"; // replaced while the call was on its way
        paced.setOffline("u-1");

        assertThat(connect.puts).extracting(r -> r.agentStatusId()).containsExactly("offline-1", "offline-2");
        assertThat(connect.listCalls).as("refilled by then: no wait for the second lookup").isEqualTo(2);
        assertThat(slept).as("the call made again takes a turn of its own").containsExactly(2_000_000_000L, 2_000_000_000L, 2_000_000_000L);
    }
}

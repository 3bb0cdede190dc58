package backstop.core.config;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BackstopConfigTest {
    static Map<String, String> minimal() {
        Map<String, String> env = new HashMap<>();
        env.put("AWS_REGION", "eu-west-2");
        env.put("CONNECT_INSTANCE_ARN", "arn:aws:connect:eu-west-2:123456789012:instance/abc-123");
        env.put("SESSIONS_TABLE", "sessions");
        env.put("EVENT_BUS_NAME", "bus");
        return env;
    }

    @Test
    void fromEnvironment_should_applyTheDesignDefaults_when_onlyRequiredVariablesAreSet() {
        BackstopConfig config = BackstopConfig.fromEnvironment(minimal());

        assertThat(config.connectInstance().instanceId()).isEqualTo("abc-123");
        assertThat(config.connectInstance().region()).isEqualTo("eu-west-2");
        assertThat(config.heartbeatSeconds()).isEqualTo(30);
        assertThat(config.staleAfterSeconds()).isEqualTo(75);
        assertThat(config.reloadWindowSeconds()).isEqualTo(30);
        assertThat(config.reloadPolicy()).isEqualTo(ReloadPolicy.RESTORE);
        assertThat(config.connectRatePerSecond()).isEqualTo(1.5);
        assertThat(config.maxAttempts()).isEqualTo(8);
        assertThat(config.exemptRoutingProfileIds()).isEmpty();
        assertThat(config.sweepIntervalSeconds()).isEqualTo(15);
        assertThat(config.allowedOrigins()).isEmpty();
        assertThat(config.maxSessionHours()).as("a 9-hour shift and an hour's overtime").isEqualTo(10);
        assertThat(config.sessionLifetime().maxAge()).isEqualTo(java.time.Duration.ofHours(10));
    }

    @Test
    void maxSessionHours_should_beOneToSeventyTwo_andNamedWhenWrong() {
        Map<String, String> edges = minimal();
        edges.put("MAX_SESSION_HOURS", "1");
        assertThat(BackstopConfig.fromEnvironment(edges).maxSessionHours()).isEqualTo(1);
        edges.put("MAX_SESSION_HOURS", "72");
        assertThat(BackstopConfig.fromEnvironment(edges).maxSessionHours()).isEqualTo(72);
        for (String wrong : java.util.List.of("0", "73", "ten")) {
            Map<String, String> env = minimal();
            env.put("MAX_SESSION_HOURS", wrong);
            assertThatThrownBy(() -> BackstopConfig.fromEnvironment(env)).as(wrong).hasMessageContaining("MAX_SESSION_HOURS");
        }
    }

    @Test
    void identityClaimWarning_should_nameTheRisk_when_theClaimIsOneUsersCanOftenEdit() {
        for (String editable : java.util.List.of("preferred_username", "email", "name")) {
            Map<String, String> env = minimal();
            env.put("AGENT_IDENTITY_CLAIM", editable);

            assertThat(BackstopConfig.fromEnvironment(env).identityClaimWarning()).as(editable)
                    .hasValueSatisfying(warning -> assertThat(warning).contains("AGENT_IDENTITY_CLAIM is " + editable, "colleague"));
        }
        for (String adminSet : java.util.List.of("cognito:username", "upn", "oid", "custom:connect_username")) {
            Map<String, String> env = minimal();
            env.put("AGENT_IDENTITY_CLAIM", adminSet);

            assertThat(BackstopConfig.fromEnvironment(env).identityClaimWarning()).as(adminSet).isEmpty();
        }
    }

    @Test
    void fromEnvironment_should_parseListsAndPolicy_when_set() {
        Map<String, String> env = minimal();
        env.put("ALLOWED_ORIGINS", "https://ccp.example.com, http://localhost:3000");
        env.put("EXEMPT_ROUTING_PROFILE_IDS", "rp-1,rp-2 ,");
        env.put("RELOAD_POLICY", "stay-offline");

        BackstopConfig config = BackstopConfig.fromEnvironment(env);

        assertThat(config.allowedOrigins()).containsExactly("https://ccp.example.com", "http://localhost:3000");
        assertThat(config.allowsOrigin("https://ccp.example.com")).isTrue();
        assertThat(config.allowsOrigin("https://evil.example.com")).isFalse();
        assertThat(config.exemptRoutingProfileIds()).containsExactlyInAnyOrder("rp-1", "rp-2");
        assertThat(config.reloadPolicy()).isEqualTo(ReloadPolicy.STAY_OFFLINE);
    }

    @Test
    void fromEnvironment_should_nameEveryBadVariable_when_configurationIsWrong() {
        Map<String, String> env = minimal();
        env.remove("SESSIONS_TABLE");
        env.put("CONNECT_INSTANCE_ARN", "arn:aws:s3:::bucket");
        env.put("HEARTBEAT_SECONDS", "often");
        env.put("RELOAD_POLICY", "maybe");
        env.put("ALLOWED_ORIGINS", "https://ccp.example.com/path");

        assertThatThrownBy(() -> BackstopConfig.fromEnvironment(env))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("SESSIONS_TABLE is required")
                .hasMessageContaining("CONNECT_INSTANCE_ARN")
                .hasMessageContaining("HEARTBEAT_SECONDS")
                .hasMessageContaining("RELOAD_POLICY")
                .hasMessageContaining("ALLOWED_ORIGINS");
    }

    @Test
    void allowedOrigins_should_beRefusedAtStart_when_theyCouldNeverEqualABrowsersOrigin() {
        for (String origin : new String[] {"https://ccp.example.com/", "https://ccp.example.com/ccp.html", "https://CCP.example.com",
                "ccp.example.com", "ftp://ccp.example.com", "https://ccp.example.com?x=1", "https://user@ccp.example.com",
                "https://ccp.example.com:", "https://-ccp.example.com"}) {
            Map<String, String> env = minimal();
            env.put("ALLOWED_ORIGINS", "https://ok.example.com," + origin);

            assertThatThrownBy(() -> BackstopConfig.fromEnvironment(env)).as(origin)
                    .hasMessageStartingWith("Invalid configuration: ALLOWED_ORIGINS: '" + origin + "' is not an origin");
        }
        Map<String, String> env = minimal();
        env.put("ALLOWED_ORIGINS", "https://ccp.example.com,http://127.0.0.1:3000,https://ccp-2.eu.example.com:8443");
        assertThat(BackstopConfig.fromEnvironment(env).allowedOrigins())
                .containsExactly("https://ccp.example.com", "http://127.0.0.1:3000", "https://ccp-2.eu.example.com:8443");
    }

    @Test
    void fromEnvironment_should_refuse_when_staleLimitIsNotAboveHeartbeat() {
        Map<String, String> env = minimal();
        env.put("HEARTBEAT_SECONDS", "30");
        env.put("STALE_AFTER_SECONDS", "30");

        assertThatThrownBy(() -> BackstopConfig.fromEnvironment(env)).hasMessageContaining("STALE_AFTER_SECONDS");
    }

    @Test
    void fromEnvironment_should_keepTheNamesItWasGiven() {
        BackstopConfig config = BackstopConfig.fromEnvironment(minimal());
        assertThat(config.region()).isEqualTo("eu-west-2");
        assertThat(config.sessionsTable()).isEqualTo("sessions");
        assertThat(config.eventBusName()).isEqualTo("bus");
    }

    @Test
    void numbers_should_beAcceptedAtTheEdgesOfTheirRanges_andRefusedJustOutside() {
        Map<String, String> edges = minimal();
        edges.put("HEARTBEAT_SECONDS", "5");
        edges.put("STALE_AFTER_SECONDS", "3600");
        edges.put("CONNECT_RATE_PER_SECOND", "100");
        BackstopConfig config = BackstopConfig.fromEnvironment(edges);
        assertThat(config.heartbeatSeconds()).isEqualTo(5);
        assertThat(config.staleAfterSeconds()).isEqualTo(3600);
        assertThat(config.connectRatePerSecond()).isEqualTo(100);

        for (String[] outside : new String[][] {{"HEARTBEAT_SECONDS", "4", "4 is outside 5..300"}, {"STALE_AFTER_SECONDS", "3601", "3601 is outside 10..3600"},
                {"CONNECT_RATE_PER_SECOND", "100.01", "100.01 is outside (0, 100]"}, {"CONNECT_RATE_PER_SECOND", "0", "0.0 is outside (0, 100]"}}) {
            Map<String, String> env = minimal();
            env.put(outside[0], outside[1]);
            assertThatThrownBy(() -> BackstopConfig.fromEnvironment(env)).as(outside[0] + "=" + outside[1])
                    .hasMessageContaining(outside[0]).hasMessageContaining(outside[2]);
        }
    }
}

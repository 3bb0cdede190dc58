package backstop.beacon;

import backstop.core.config.BackstopConfig;
import backstop.core.http.ApiError;
import org.junit.jupiter.api.Test;

import java.util.EnumMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The edge's one mapping from the service's refusals to the HTTP contract (design.md's status codes and error codes). */
class BeaconApiTest {
    static final BackstopConfig CONFIG = config(Map.of());

    /** The configuration of a stack with these variables beside the required ones. */
    static BackstopConfig config(Map<String, String> variables) {
        Map<String, String> env = new java.util.HashMap<>(Map.of("AWS_REGION", "eu-west-2",
                "CONNECT_INSTANCE_ARN", "arn:aws:connect:eu-west-2:123456789012:instance/inst-1", "SESSIONS_TABLE", "t",
                "EVENT_BUS_NAME", "b"));
        env.putAll(variables);
        return BackstopConfig.fromEnvironment(env);
    }

    /** The contract, refusal by refusal: status and error code. */
    static final Map<Refusal, String> CONTRACT = new EnumMap<>(Map.ofEntries(
            Map.entry(Refusal.UNAUTHENTICATED, "401 unauthenticated"),
            Map.entry(Refusal.FOREIGN_INSTANCE, "403 foreign_instance"),
            Map.entry(Refusal.IDENTITY_CLAIM_MISSING, "403 identity_claim_missing"),
            Map.entry(Refusal.IDENTITY_CLAIM_UNVERIFIED, "403 identity_claim_unverified"),
            Map.entry(Refusal.UNKNOWN_AGENT, "403 unknown_agent"),
            Map.entry(Refusal.IDENTITY_UNVERIFIABLE, "503 identity_unverified"),
            Map.entry(Refusal.IDENTITY_MISMATCH, "403 identity_mismatch"),
            Map.entry(Refusal.TOO_MANY_SESSIONS, "429 too_many_sessions"),
            Map.entry(Refusal.UNKNOWN_SESSION, "404 not_found"),
            Map.entry(Refusal.BAD_TOKEN, "403 bad_token"),
            Map.entry(Refusal.SESSION_CLOSED, "410 session_closed"),
            Map.entry(Refusal.SESSION_EXPIRED, "410 session_expired"),
            Map.entry(Refusal.HEARTBEAT_TOO_FREQUENT, "429 too_many_heartbeats")));

    static ApiError error(Refusal refusal) {
        return BeaconApi.error(CONFIG, new BeaconService.Refused(refusal));
    }

    @Test
    void error_should_answerEveryRefusal_withAClientOrServerErrorAndAMessage() {
        for (Refusal refusal : Refusal.values()) {
            ApiError error = error(refusal);

            assertThat(error.status()).as(refusal.name()).isBetween(400, 599);
            assertThat(error.code()).as(refusal.name()).isNotBlank();
            assertThat(error.getMessage()).as(refusal.name()).isNotBlank();
        }
    }

    @Test
    void error_should_answerEachRefusal_withTheContractsStatusAndCode() {
        assertThat(CONTRACT.keySet()).as("every refusal has its line in the contract").containsExactly(Refusal.values());
        for (Refusal refusal : Refusal.values()) {
            ApiError error = error(refusal);

            assertThat(error.status() + " " + error.code()).as(refusal.name()).isEqualTo(CONTRACT.get(refusal));
        }
    }

    @Test
    void error_should_giveEachRefusalAMessageOfItsOwn() {
        Set<String> messages = new HashSet<>();
        for (Refusal refusal : Refusal.values()) {
            messages.add(error(refusal).getMessage());
        }
        assertThat(messages).hasSize(Refusal.values().length);
    }

    @Test
    void error_should_sayHowManySessionsAreOpen_andWhenAPlaceFreesUp_when_theAgentIsAtTheCap() {
        ApiError error = BeaconApi.error(CONFIG, new BeaconService.Refused(Refusal.TOO_MANY_SESSIONS, 4));

        // At most a stale limit (default 75 s) and a sweep interval (default 15 s) until a closed tab is noticed.
        assertThat(error.getMessage()).isEqualTo("this agent already has 4 open CCP sessions; close one, or wait until a"
                + " closed one is noticed (at most 90 s)");
    }

    @Test
    void error_should_nameTheConfiguredClaim_when_theTokenLacksIt() {
        assertThat(error(Refusal.IDENTITY_CLAIM_MISSING).getMessage()).contains("no preferred_username claim");
        BackstopConfig email = config(Map.of("AGENT_IDENTITY_CLAIM", "email"));

        assertThat(BeaconApi.error(email, new BeaconService.Refused(Refusal.IDENTITY_CLAIM_MISSING)).getMessage())
                .contains("no email claim");
    }
}

package backstop.core.snapstart;

import backstop.core.connect.ConnectFailure;
import backstop.core.random.RestoreSafeRandom;
import org.crac.CheckpointException;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;

import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Which priming failures stop a version from being published, and which are only logged. */
class PrimingStepsTest {

    static AwsServiceException service(String code, int status) {
        return AwsServiceException.builder().statusCode(status)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode(code).errorMessage("quoting the request: secret").build())
                .build();
    }

    @Test
    void isConfiguration_should_beTrue_forRefusalsAndMissingResources_thatNoRetryFixes() {
        assertThat(PrimingSteps.isConfiguration(service("AccessDeniedException", 400))).isTrue();
        assertThat(PrimingSteps.isConfiguration(service("AccessDeniedException", 403))).isTrue();
        assertThat(PrimingSteps.isConfiguration(service("UnrecognizedClientException", 400))).isTrue();
        assertThat(PrimingSteps.isConfiguration(service("ResourceNotFoundException", 400))).as("DynamoDB: no such table").isTrue();
        assertThat(PrimingSteps.isConfiguration(service("ResourceNotFoundException", 404))).as("Connect: no such instance here").isTrue();
        assertThat(PrimingSteps.isConfiguration(SdkClientException.create("Unable to execute HTTP request",
                new UnknownHostException("dynamodb.xx-nowhere-1.amazonaws.com")))).as("a name that does not resolve").isTrue();
        assertThat(PrimingSteps.isConfiguration(new ConnectFailure("AccessDeniedException (403)", false, false, null))).isTrue();
        assertThat(PrimingSteps.isConfiguration(new ConnectFailure("NoOfflineStatus", false, false, null))).isTrue();
        assertThat(PrimingSteps.isConfiguration(new CompletionException(service("AccessDeniedException", 403)))).isTrue();
    }

    @Test
    void isConfiguration_should_beFalse_forThrottlingServerErrorsAndTimeouts() {
        assertThat(PrimingSteps.isConfiguration(service("ThrottlingException", 400))).isFalse();
        assertThat(PrimingSteps.isConfiguration(service("ProvisionedThroughputExceededException", 400))).isFalse();
        assertThat(PrimingSteps.isConfiguration(service("TooManyRequestsException", 429))).isFalse();
        assertThat(PrimingSteps.isConfiguration(service("InternalServerError", 500))).isFalse();
        assertThat(PrimingSteps.isConfiguration(service("ServiceUnavailable", 503))).isFalse();
        assertThat(PrimingSteps.isConfiguration(ApiCallAttemptTimeoutException.create(1000))).isFalse();
        assertThat(PrimingSteps.isConfiguration(SdkClientException.create("Connection reset"))).isFalse();
        assertThat(PrimingSteps.isConfiguration(new ConnectFailure("ThrottlingException (429)", true, true, null))).isFalse();
        assertThat(PrimingSteps.isConfiguration(new ConnectFailure("ConnectUnreachable", true, false,
                SdkClientException.create("Read timed out")))).isFalse();
        assertThat(PrimingSteps.isConfiguration(new IllegalStateException("a bug"))).isFalse();
        assertThat(PrimingSteps.isConfiguration(service("ValidationException", 400))).as("another 4xx: tolerated").isFalse();
        assertThat(PrimingSteps.isConfiguration(service("LimitExceededException", 400))).isFalse();
    }

    @Test
    void steps_should_recordEachOutcome_andOnlyTheUnfixableAsMisconfigured_neverAServicesMessage() {
        PrimingSteps steps = new PrimingSteps(PrimingSteps.Patience.NONE);
        steps.require("credentials", () -> "resolved");
        steps.run("read", () -> {
            throw service("ThrottlingException", 400);
        });
        steps.run("table", () -> {
            throw service("ResourceNotFoundException", 400);
        });
        steps.note("entry built");

        assertThat(steps.outcomes()).containsExactly(
                "credentials -> resolved",
                "read -> failed, tolerated: ThrottlingException (400)",
                "table -> MISCONFIGURED ResourceNotFoundException (400)",
                "entry built");
        assertThat(steps.misconfigured()).containsExactly("table -> MISCONFIGURED ResourceNotFoundException (400)");
        assertThat(String.join(" ", steps.outcomes())).doesNotContain("secret");
    }

    @Test
    void require_should_judgeEveryFailure_asMisconfigured() {
        PrimingSteps steps = new PrimingSteps(PrimingSteps.Patience.NONE);
        steps.require("credentials", () -> {
            throw SdkClientException.create("Failed to load credentials from metadata service.");
        });
        assertThat(steps.misconfigured()).containsExactly(
                "credentials -> MISCONFIGURED SdkClientException: Failed to load credentials from metadata service.");
    }

    /** Hooks whose priming runs the given steps. */
    static SnapStartHooks hooks(List<PrimingSteps.Step> run) {
        return new SnapStartHooks(new RestoreSafeRandom(), PrimingSteps.Patience.NONE) {
            @Override
            protected void prime(PrimingSteps steps) {
                for (int i = 0; i < run.size(); i++) {
                    steps.run("step " + i, run.get(i));
                }
            }
        };
    }

    @Test
    void beforeCheckpoint_should_fail_onAConfigurationFailure_andNameIt() {
        SnapStartHooks hooks = hooks(List.of(() -> "ok", () -> {
            throw service("AccessDeniedException", 400);
        }));
        assertThatThrownBy(() -> hooks.beforeCheckpoint(null)).isInstanceOf(CheckpointException.class)
                .hasMessage("Priming failed: step 1 -> MISCONFIGURED AccessDeniedException (400)");
    }

    @Test
    void beforeCheckpoint_should_takeTheSnapshotAnyway_onTransientFailures() throws Exception {
        SnapStartHooks hooks = hooks(List.of(() -> {
            throw service("InternalServerError", 500);
        }, () -> {
            throw ApiCallAttemptTimeoutException.create(1000);
        }));
        hooks.beforeCheckpoint(null);
        assertThat(hooks.primeChecked()).containsExactly("step 0 -> failed, tolerated: InternalServerError (500)",
                "step 1 -> failed, tolerated: ApiCallAttemptTimeoutException: HTTP request execution did not complete "
                        + "before the specified timeout configuration: 1000 millis");
    }

    @Test
    void aConfigurationFailure_should_beTriedAgain_whileIamCatchesUp_andCountOnlyIfItLasts() {
        List<Duration> slept = new ArrayList<>();
        PrimingSteps.Patience patience = new PrimingSteps.Patience(PrimingSteps.Patience.DEFAULT.waits(),
                PrimingSteps.Patience.DEFAULT.budget(), slept::add);
        int[] calls = {0};
        PrimingSteps steps = new PrimingSteps(patience);
        steps.run("new role", () -> {
            if (++calls[0] < 3) {
                throw service("AccessDeniedException", 400);
            }
            return "read";
        });
        steps.run("throttled", () -> {
            throw service("ThrottlingException", 400);
        });
        steps.run("missing table", () -> {
            throw service("ResourceNotFoundException", 400);
        });

        assertThat(steps.outcomes()).containsExactly(
                "new role -> read (try 3)",
                "throttled -> failed, tolerated: ThrottlingException (400)",
                "missing table -> MISCONFIGURED ResourceNotFoundException (400) (8 tries)");
        assertThat(slept).as("1 and 2 s for the new role; nothing for the throttle; every wait for the table (63 s in all,"
                        + " inside the 75 s budget)")
                .containsExactly(Duration.ofSeconds(1), Duration.ofSeconds(2),
                        Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(4), Duration.ofSeconds(8),
                        Duration.ofSeconds(15), Duration.ofSeconds(15), Duration.ofSeconds(15));
        assertThat(steps.misconfigured()).hasSize(1);
    }

    @Test
    void theRetries_should_shareOneBudget_acrossSteps() {
        List<Duration> slept = new ArrayList<>();
        PrimingSteps steps = new PrimingSteps(new PrimingSteps.Patience(PrimingSteps.Patience.DEFAULT.waits(),
                PrimingSteps.Patience.DEFAULT.budget(), slept::add));
        steps.require("credentials", () -> {
            throw SdkClientException.create("Failed to load credentials from metadata service.");
        });
        steps.run("table", () -> {
            throw service("AccessDeniedException", 400);
        });

        assertThat(slept.stream().reduce(Duration.ZERO, Duration::plus)).as("never more than the budget in all")
                .isLessThanOrEqualTo(PrimingSteps.Patience.DEFAULT.budget());
        assertThat(steps.misconfigured()).hasSize(2);
        assertThat(steps.outcomes().get(1)).as("the second step: the 15 s the first (60 s) left of the budget")
                .isEqualTo("table -> MISCONFIGURED AccessDeniedException (400) (5 tries)");
    }
}

package backstop.core.aws;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CallPolicyTest {
    private static final Duration ONE = Duration.ofSeconds(1);
    private static final Duration TWO = Duration.ofSeconds(2);

    @Test
    void aPolicy_should_takeOneAttemptOrMore_andACallTimeoutNoShorterThanAnAttempts() {
        assertThat(new CallPolicy(1, ONE, ONE).maxAttempts()).isEqualTo(1);
        assertThat(new CallPolicy(3, Duration.ZERO, ONE).attemptTimeout()).isZero();
        assertThatThrownBy(() -> new CallPolicy(0, ONE, TWO)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("bad call policy: 0 attempts, PT1S/PT2S");
        assertThatThrownBy(() -> new CallPolicy(1, Duration.ofMillis(-1), TWO)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new CallPolicy(1, TWO, ONE)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void atLeast_should_lengthenTimeouts_neverShortenThem_andKeepTheAttempts() {
        CallPolicy policy = new CallPolicy(3, ONE, TWO);
        assertThat(policy.atLeast(TWO, Duration.ofSeconds(10))).isEqualTo(new CallPolicy(3, TWO, Duration.ofSeconds(10)));
        assertThat(policy.atLeast(Duration.ofMillis(500), ONE)).isEqualTo(policy);
        assertThat(policy.atLeast(ONE, TWO)).as("equal stays").isEqualTo(policy);
    }
}

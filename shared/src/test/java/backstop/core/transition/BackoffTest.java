package backstop.core.transition;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

import static org.assertj.core.api.Assertions.assertThat;

class BackoffTest {
    final Backoff backoff = new Backoff(Duration.ofSeconds(5), Duration.ofMinutes(5));

    @Test
    void after_should_doubleWithinJitterBounds_when_attemptsGrow() {
        RandomGenerator random = new SplittableRandom(7);
        for (int attempts = 1; attempts <= 12; attempts++) {
            long ceiling = Math.min(300_000, 5_000L << (attempts - 1));
            for (int i = 0; i < 200; i++) {
                long delay = backoff.after(attempts, random).toMillis();
                assertThat(delay).as("attempt %d", attempts).isBetween(ceiling / 2, ceiling);
            }
        }
    }

    @Test
    void after_should_spreadRetries_when_manyAgentsFailTogether() {
        RandomGenerator random = new SplittableRandom(11);
        long distinct = java.util.stream.IntStream.range(0, 100).mapToLong(i -> backoff.after(3, random).toMillis()).distinct().count();
        assertThat(distinct).isGreaterThan(90);
    }
}

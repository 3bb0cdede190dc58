package backstop.core.session;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/** When a session ends: its maximum age, less its own place in a spread, so a shift's sessions do not all end at once. */
class SessionLifetimeTest {
    static final Instant EIGHT = Instant.parse("2026-11-25T08:00:00Z");

    @Test
    void endOf_should_spreadASurgesSessionsEvenlyOverTheHourBeforeTheirMaximumAge() {
        SessionLifetime lifetime = SessionLifetime.ofHours(10);
        SessionIds ids = SessionIds.withKey(new byte[32], Instant.MAX, java.time.Clock.fixed(EIGHT, java.time.ZoneOffset.UTC));
        int[] perMinute = new int[60];
        int sessions = 100_000;
        for (int i = 0; i < sessions; i++) {
            Instant end = lifetime.endOf(ids.issue(), EIGHT);
            assertThat(end).isAfter(EIGHT.plus(Duration.ofHours(9))).isBeforeOrEqualTo(EIGHT.plus(Duration.ofHours(10)));
            // Counted back from the maximum age: an offset of 0 (an end at exactly 18:00) is the last minute's, not a 61st.
            perMinute[(int) Duration.between(end, EIGHT.plus(Duration.ofHours(10))).toMinutes()]++;
        }
        // 100,000 registers at 8:00 end over 17:00-18:00: about 1,667 a minute (28/s), none twice that.
        for (int minute = 0; minute < 60; minute++) {
            assertThat(perMinute[minute]).as("minute %d", minute).isBetween(1_400, 1_950);
        }
    }

    @Test
    void endOf_should_spreadRandomUntaggedIdsToo() {
        SessionLifetime lifetime = SessionLifetime.ofHours(10);
        java.security.SecureRandom random = new java.security.SecureRandom();
        int[] perQuarter = new int[4];
        for (int i = 0; i < 20_000; i++) {
            SessionId id = SessionId.random(random);
            long offset = lifetime.offsetMillis(id);
            assertThat(offset).isBetween(0L, Duration.ofHours(1).toMillis() - 1);
            perQuarter[(int) (offset / Duration.ofMinutes(15).toMillis())]++;
        }
        assertThat(java.util.Arrays.stream(perQuarter).boxed().toList()).allSatisfy(n -> assertThat(n).isBetween(4_500, 5_500));
    }

    @Test
    void bornAfter_should_beTheRegisterTimeWhoseEndIsNow() {
        SessionLifetime lifetime = SessionLifetime.ofHours(10);
        SessionId id = SessionId.random(new java.security.SecureRandom());
        Instant end = lifetime.endOf(id, EIGHT);

        assertThat(lifetime.bornAfter(id, end)).isEqualTo(EIGHT);
        assertThat(lifetime.bornAfter(id, end.minusMillis(1))).isBefore(EIGHT);
    }

    @Test
    void spread_should_beATenthOfTheMaximumAge_atMostAnHour() {
        assertThat(SessionLifetime.ofHours(1).spread()).isEqualTo(Duration.ofMinutes(6));
        assertThat(SessionLifetime.ofHours(10).spread()).isEqualTo(Duration.ofHours(1));
        assertThat(SessionLifetime.ofHours(72).spread()).isEqualTo(Duration.ofHours(1));
    }
}

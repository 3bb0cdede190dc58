package backstop.beacon;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

class UnknownUsersTest {
    final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-11-29T12:00:00Z"));
    final Clock clock = new Clock() {
        @Override public ZoneOffset getZone() { return ZoneOffset.UTC; }
        @Override public Clock withZone(java.time.ZoneId zone) { return this; }
        @Override public Instant instant() { return now.get(); }
    };
    final UnknownUsers unknown = new UnknownUsers(clock);

    @Test
    void anUnknownUser_should_beRememberedForTenMinutes_thenAskedAgain() {
        unknown.add("ghost");

        assertThat(unknown.contains("ghost")).isTrue();
        assertThat(unknown.contains("someone")).isFalse();
        now.set(now.get().plus(UnknownUsers.TTL));
        assertThat(unknown.contains("ghost")).as("at ten minutes exactly").isTrue();
        now.set(now.get().plusMillis(1));
        assertThat(unknown.contains("ghost")).isFalse();
        assertThat(unknown.size()).as("an expired entry is dropped when seen").isZero();
    }

    @Test
    void memory_should_stayBounded_keepingTheNewest() {
        for (int i = 0; i <= UnknownUsers.MAX_ENTRIES; i++) {
            unknown.add("ghost-" + i);
        }

        assertThat(unknown.size()).isEqualTo(UnknownUsers.MAX_ENTRIES);
        assertThat(unknown.contains("ghost-0")).as("the oldest forgotten").isFalse();
        assertThat(unknown.contains("ghost-1")).isTrue();
        assertThat(unknown.contains("ghost-" + UnknownUsers.MAX_ENTRIES)).isTrue();
    }

    @Test
    void addingAgain_should_renewTheEntry_andMakeItTheNewest() {
        unknown.add("ghost");
        now.set(now.get().plus(UnknownUsers.TTL.minusMinutes(1)));
        unknown.add("ghost");
        now.set(now.get().plus(UnknownUsers.TTL.minusMinutes(1)));

        assertThat(unknown.contains("ghost")).isTrue();
    }
}

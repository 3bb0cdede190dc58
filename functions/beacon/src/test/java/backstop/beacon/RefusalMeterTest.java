package backstop.beacon;

import backstop.core.session.RefusedHeartbeats;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.NavigableMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

/** The beacon's count of refused heartbeats: per window, written once the window is over, never in a beat's way. */
class RefusalMeterTest {
    static final Instant T0 = Instant.parse("2026-12-02T09:00:00Z");
    static final Duration HEARTBEAT = Duration.ofSeconds(30); // windows of 10 s

    /** A clock the test moves. */
    static final class MovedClock extends Clock {
        Instant now = T0;
        @Override public ZoneId getZone() { return ZoneOffset.UTC; }
        @Override public Clock withZone(ZoneId zone) { return this; }
        @Override public Instant instant() { return now; }
    }

    final MovedClock clock = new MovedClock();
    final RefusedHeartbeats.InMemory store = new RefusedHeartbeats.InMemory();
    /** No offset: a window is written at the first heartbeat past its end. */
    static final java.util.random.RandomGenerator NO_OFFSET = new java.util.Random() {
        @Override public long nextLong(long bound) { return 0; }
    };
    final RefusalMeter meter = new RefusalMeter(store, clock, HEARTBEAT, NO_OFFSET);

    @Test
    void aWindowsRefusals_should_beWrittenOnce_whenTheWindowIsOver() {
        for (int i = 0; i < 40; i++) {
            clock.now = T0.plusMillis(i * 200L); // 40 refusals within the first 8 s
            meter.observe(true);
        }
        meter.observe(false);
        assertThat(store.all()).as("nothing while the window lasts").isEmpty();

        clock.now = T0.plusSeconds(12);
        meter.observe(false); // the next window's first heartbeat, a real one
        assertThat(store.all()).containsExactly(Map.entry(T0, new RefusedHeartbeats.Window(40, 41)));
        clock.now = T0.plusSeconds(25);
        meter.observe(false);
        assertThat(store.all()).as("a window that refused nothing writes nothing")
                .containsExactly(Map.entry(T0, new RefusedHeartbeats.Window(40, 41)));
    }

    @Test
    void aWindow_should_beWrittenOnlyOnceItsOffsetHasPassed_soContainersDoNotWriteAtOnce() {
        RefusalMeter late = new RefusalMeter(store, clock, HEARTBEAT, new java.util.Random() {
            @Override public long nextLong(long bound) { return 4_000; } // of at most 5 s (half a window)
        });
        late.observe(true);
        clock.now = T0.plusSeconds(11);
        late.observe(false);
        assertThat(store.all()).as("1 s past the window: not yet").isEmpty();
        clock.now = T0.plusSeconds(14);
        late.observe(false);
        assertThat(store.all()).as("4 s past it").containsOnlyKeys(T0);
        clock.now = T0.plusSeconds(35); // two windows later: the one in between refused nothing
        late.observe(true);
        assertThat(store.all()).containsOnlyKeys(T0);
    }

    @Test
    void beatsThatLand_should_writeNothing() {
        for (int i = 0; i < 100; i++) {
            clock.now = T0.plusSeconds(i);
            meter.observe(false);
        }
        assertThat(store.all()).isEmpty();
    }

    @Test
    void aCountOlderThanAMinute_should_beDropped_asASnapshotsOrASleepingContainers() {
        meter.observe(true);
        meter.observe(true);
        clock.now = T0.plus(Duration.ofMinutes(20)); // restored from a snapshot, or woken after a quiet spell
        meter.observe(true);
        assertThat(store.all()).isEmpty();
    }

    @Test
    void aStoreThatFails_should_notFailTheRequest() {
        RefusalMeter failing = new RefusalMeter(new RefusedHeartbeats() {
            @Override public void add(Instant windowStart, Window counts) { throw new IllegalStateException("DynamoDB is down"); }
            @Override public NavigableMap<Instant, Window> since(Instant from) { throw new UnsupportedOperationException(); }
        }, clock, HEARTBEAT, NO_OFFSET);
        failing.observe(true);
        clock.now = T0.plusSeconds(10);
        // The first window's count is written at this heartbeat, and the write fails: logged, not thrown.
        assertThatCode(() -> failing.observe(true)).doesNotThrowAnyException();
    }

    @Test
    void refusals_should_beTheClientErrors_butNotClosed() {
        assertThat(BeaconApi.isRefusal(404)).as("a made-up id").isTrue();
        assertThat(BeaconApi.isRefusal(403)).as("a token not the session's").isTrue();
        assertThat(BeaconApi.isRefusal(400)).as("a malformed id or body").isTrue();
        assertThat(BeaconApi.isRefusal(410)).as("a real page whose session was closed").isFalse();
        assertThat(BeaconApi.isRefusal(200)).isFalse();
        assertThat(BeaconApi.isRefusal(500)).as("our own failure is no flood").isFalse();
    }
}

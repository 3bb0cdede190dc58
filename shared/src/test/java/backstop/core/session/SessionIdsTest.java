package backstop.core.session;

import org.junit.jupiter.api.Test;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** Tagged session ids: issued ones pass, made-up ones do not, untagged ones from before the key only for a while. */
class SessionIdsTest {
    static final Instant NOW = Instant.parse("2026-12-02T08:00:00Z");

    /** The key's item as the table keeps it: made once, read by every container; reads counted. */
    static final class MemoryKeys implements SessionIds.KeyStore {
        SessionIds.Key key;
        final AtomicInteger reads = new AtomicInteger();
        final AtomicInteger creates = new AtomicInteger();

        @Override public synchronized Optional<SessionIds.Key> read() {
            reads.incrementAndGet();
            return Optional.ofNullable(key);
        }

        @Override public synchronized SessionIds.Key create(byte[] secret, Instant now) {
            creates.incrementAndGet();
            if (key == null) {
                key = new SessionIds.Key(secret.clone(), now.plus(SessionIds.LEGACY_WINDOW));
            }
            return key;
        }
    }

    static final class MovedClock extends Clock {
        Instant now = NOW;
        @Override public java.time.ZoneId getZone() { return ZoneOffset.UTC; }
        @Override public Clock withZone(java.time.ZoneId zone) { return this; }
        @Override public Instant instant() { return now; }
    }

    final MemoryKeys keys = new MemoryKeys();
    final MovedClock clock = new MovedClock();

    SessionIds container() {
        return new SessionIds(keys, new SecureRandom(), clock);
    }

    static SessionId madeUp(SecureRandom random) {
        byte[] bytes = new byte[24];
        random.nextBytes(bytes);
        return new SessionId(Base64.getUrlEncoder().withoutPadding().encodeToString(bytes));
    }

    @Test
    void issuedIds_should_passInEveryContainer_andMadeUpOrAlteredOnes_should_not() {
        SessionIds one = container();
        SessionIds other = container();
        SessionId issued = one.issue();

        assertThat(issued.value()).hasSize(32);
        assertThat(issued.isTagged()).isTrue();
        assertThat(one.mayExist(issued)).isTrue();
        assertThat(other.mayExist(issued)).as("another container, the same key from the table").isTrue();
        assertThat(keys.creates.get()).as("the key is made once").isEqualTo(1);

        SecureRandom random = new SecureRandom();
        for (int i = 0; i < 1000; i++) {
            assertThat(other.mayExist(madeUp(random))).isFalse();
        }
        char last = issued.value().charAt(31);
        SessionId altered = new SessionId(issued.value().substring(0, 31) + (last == 'A' ? 'B' : 'A'));
        assertThat(one.mayExist(altered)).as("one character of the tag changed").isFalse();
        SessionId otherRandom = new SessionId((issued.value().charAt(0) == 'A' ? 'B' : 'A') + issued.value().substring(1));
        assertThat(one.mayExist(otherRandom)).as("the random part changed under the same tag").isFalse();
        SessionIds anotherStack = SessionIds.withKey(new byte[32], Instant.MAX, clock);
        assertThat(anotherStack.mayExist(issued)).as("another key (another stack)").isFalse();
    }

    @Test
    void untaggedIds_should_beLookedUp_untilTheLegacyWindowAfterTheKeyWasMade_ends() {
        SessionIds upgraded = container();
        SessionId legacy = SessionId.random(new SecureRandom());
        assertThat(upgraded.mayExist(legacy)).as("no key yet: pages of before the upgrade").isTrue();
        assertThat(upgraded.mayExist(madeUp(new SecureRandom()))).as("no key yet: no tagged id was ever issued").isFalse();

        container().issue(); // the first register after the upgrade makes the key
        clock.now = NOW.plus(SessionIds.ABSENCE_REREAD); // the absence is believed for a minute
        assertThat(upgraded.mayExist(legacy)).isTrue();
        clock.now = NOW.plus(SessionIds.LEGACY_WINDOW).minusSeconds(1);
        assertThat(upgraded.mayExist(legacy)).isTrue();
        clock.now = NOW.plus(SessionIds.LEGACY_WINDOW);
        assertThat(upgraded.mayExist(legacy)).as("after the longest shift: refused before any lookup").isFalse();
    }

    @Test
    void aMissingKey_should_beReadAgain_atMostOnceAMinute() {
        SessionIds ids = container();
        SessionId legacy = SessionId.random(new SecureRandom());
        for (int i = 0; i < 100; i++) {
            ids.mayExist(legacy);
        }
        assertThat(keys.reads.get()).isEqualTo(1);
        clock.now = NOW.plus(Duration.ofSeconds(61));
        ids.mayExist(legacy);
        assertThat(keys.reads.get()).isEqualTo(2);
    }

    @Test
    void aTaggedId_should_makeAContainerLookForTheKeyAgain_withinASecond_notAMinute() {
        SessionIds sleepy = container();
        assertThat(sleepy.mayExist(SessionId.random(new SecureRandom()))).as("no key yet").isTrue();
        SessionId issued = container().issue(); // another container's first register makes the key

        clock.now = NOW.plusSeconds(1);
        assertThat(sleepy.mayExist(issued)).as("read again after a second for a tagged id").isTrue();
    }
}

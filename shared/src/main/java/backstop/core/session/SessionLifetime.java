package backstop.core.session;

import java.time.Duration;
import java.time.Instant;

/**
 * How long a session may live: MAX_SESSION_HOURS from its register, less a share of up to {@link #spread()} that
 * depends on the session id alone. A stolen session token (an extension, an XSS) then keeps a crashed tab's agent
 * Available no longer than that; and the sessions a whole shift opened at 8:00 do not all end in the same heartbeat
 * period, which would send every page to the identity provider and to register at once. Derived from the id, so
 * every beat of one session sees the same end, and nothing is stored for it.
 */
public record SessionLifetime(Duration maxAge) {
    /** The longest spread: the sessions of one 8:00 surge end over this hour (about 28 registers/s for 100,000). */
    public static final Duration MAX_SPREAD = Duration.ofHours(1);

    public SessionLifetime {
        if (maxAge.isNegative() || maxAge.isZero()) {
            throw new IllegalArgumentException("a session's maximum age must be positive");
        }
    }

    public static SessionLifetime ofHours(int hours) {
        return new SessionLifetime(Duration.ofHours(hours));
    }

    /** A tenth of the maximum age, at most {@link #MAX_SPREAD}: short lifetimes (tests, strict set-ups) stay close to theirs. */
    public Duration spread() {
        Duration tenth = maxAge.dividedBy(10);
        return tenth.compareTo(MAX_SPREAD) < 0 ? tenth : MAX_SPREAD;
    }

    /** When the session with this id, registered at {@code created}, ends. */
    public Instant endOf(SessionId id, Instant created) {
        return created.plus(maxAge).minusMillis(offsetMillis(id));
    }

    /**
     * The earliest register time of a session with this id that is still alive at {@code now}: a heartbeat counts
     * only for a session created after it.
     */
    public Instant bornAfter(SessionId id, Instant now) {
        return now.minus(maxAge).plusMillis(offsetMillis(id));
    }

    /** The id's place in the spread, in [0, spread): a mix of its characters (ids are random, so they spread evenly). */
    long offsetMillis(SessionId id) {
        long spread = spread().toMillis();
        if (spread == 0) {
            return 0;
        }
        long h = id.value().hashCode() * 0x9E3779B97F4A7C15L;
        h ^= h >>> 31;
        h *= 0xBF58476D1CE4E5B9L;
        h ^= h >>> 29;
        return Math.floorMod(h, spread);
    }
}

package backstop.beacon;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * User ids Connect just said it does not know, remembered in this container for {@link #TTL}: a register naming
 * one again is refused without a DescribeUser (Connect's quota is per account, shared with every other app) and
 * without a write. Bounded: past {@link #MAX_ENTRIES} the oldest are forgotten, so memory cannot be exhausted.
 */
public final class UnknownUsers {
    static final Duration TTL = Duration.ofMinutes(10);
    static final int MAX_ENTRIES = 10_000;

    private final Clock clock;
    private final Map<String, Instant> until = new LinkedHashMap<>(256, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Instant> eldest) {
            return size() > MAX_ENTRIES;
        }
    };

    public UnknownUsers(Clock clock) {
        this.clock = clock;
    }

    public synchronized boolean contains(String userId) {
        Instant expiry = until.get(userId);
        if (expiry == null) {
            return false;
        }
        if (expiry.isBefore(clock.instant())) {
            until.remove(userId);
            return false;
        }
        return true;
    }

    public synchronized void add(String userId) {
        until.remove(userId); // re-inserted last: the newest are kept longest
        until.put(userId, clock.instant().plus(TTL));
    }

    synchronized int size() {
        return until.size();
    }
}

package backstop.beacon;

import backstop.core.session.RefusedHeartbeats;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * Counts, in this container, the heartbeats refused as not coming from a real page, a window at a time, and adds
 * a window's count to the shared {@link RefusedHeartbeats} once the window is over (at the first heartbeat of a
 * later one): one write a window, only for a window that refused something, nothing on the way of a beat that
 * lands. A count older than a minute when it could be written (the container slept, or this is a SnapStart
 * snapshot's) is no longer news and is dropped. A write that fails is logged and dropped: the count is a signal,
 * never a reason to fail a request.
 */
final class RefusalMeter {
    private static final Logger LOG = LoggerFactory.getLogger(RefusalMeter.class);
    static final Duration STALE_COUNT = Duration.ofMinutes(1);

    private final RefusedHeartbeats store;
    private final Clock clock;
    private final Duration window;
    private Instant current;
    private long refused;

    RefusalMeter(RefusedHeartbeats store, Clock clock, Duration heartbeat) {
        this.store = store;
        this.clock = clock;
        this.window = RefusedHeartbeats.window(heartbeat);
    }

    /** One heartbeat request answered: {@code refusal} when it was refused as not a real page's. */
    void observe(boolean refusal) {
        Instant now = clock.instant();
        Instant windowStart = RefusedHeartbeats.windowStart(now, window);
        Instant ended = null;
        long count = 0;
        synchronized (this) {
            if (!windowStart.equals(current)) {
                if (current != null && refused > 0 && now.isBefore(current.plus(window).plus(STALE_COUNT))) {
                    ended = current;
                    count = refused;
                }
                current = windowStart;
                refused = 0;
            }
            if (refusal) {
                refused++;
            }
        }
        if (ended != null) {
            try {
                store.add(ended, count);
            } catch (RuntimeException e) {
                LOG.warn("could not count {} refused heartbeats of the window from {}", count, ended, e);
            }
        }
    }
}

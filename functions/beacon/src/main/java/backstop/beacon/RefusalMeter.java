package backstop.beacon;

import backstop.core.session.RefusedHeartbeats;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.random.RandomGenerator;

/**
 * Counts, in this container, the heartbeat requests it answers and those it refuses as not coming from a real page,
 * a window at a time, and adds a finished window's counts to the shared {@link RefusedHeartbeats}: one write a
 * window, only for a window that refused something, nothing on the way of the beats of a calm day. The write comes
 * at this container's first heartbeat past the window's end plus an offset of its own (up to half a window),
 * so the containers of a flood do not all write the one window's item in the same instant. A count older than a
 * minute when it could be written (the container slept, or this is a SnapStart snapshot's) is no longer news and
 * is dropped. A write that fails is logged and dropped: the count is a signal, never a reason to fail a request.
 */
final class RefusalMeter {
    private static final Logger LOG = LoggerFactory.getLogger(RefusalMeter.class);
    static final Duration STALE_COUNT = Duration.ofMinutes(1);

    private final RefusedHeartbeats store;
    private final Clock clock;
    private final Duration window;
    private final RandomGenerator random;
    private Duration offset = Duration.ZERO;
    private Instant current;
    private long refused;
    private long requests;
    /** A finished window not written yet: its start and counts. */
    private Instant pending;
    private RefusedHeartbeats.Window pendingCounts;

    RefusalMeter(RefusedHeartbeats store, Clock clock, Duration heartbeat, RandomGenerator random) {
        this.store = store;
        this.clock = clock;
        this.window = RefusedHeartbeats.window(heartbeat);
        this.random = random;
    }

    /** One heartbeat request answered: {@code refusal} when it was refused as not a real page's. */
    void observe(boolean refusal) {
        Instant now = clock.instant();
        Instant windowStart = RefusedHeartbeats.windowStart(now, window);
        java.util.List<java.util.Map.Entry<Instant, RefusedHeartbeats.Window>> toWrite = new java.util.ArrayList<>(2);
        synchronized (this) {
            takeDue(now, toWrite);
            if (!windowStart.equals(current)) {
                if (current != null && refused > 0) {
                    pending = current; // a later window's first request: the window is over
                    pendingCounts = new RefusedHeartbeats.Window(refused, requests);
                    // Drawn for each window (a SnapStart snapshot's containers would all share one drawn at init).
                    offset = Duration.ofMillis(random.nextLong(Math.max(1, window.toMillis() / 2)));
                }
                current = windowStart;
                refused = 0;
                requests = 0;
                takeDue(now, toWrite);
            }
            requests++;
            if (refusal) {
                refused++;
            }
        }
        for (var window : toWrite) {
            try {
                store.add(window.getKey(), window.getValue());
            } catch (RuntimeException e) {
                LOG.warn("could not count {} refused heartbeats of the window from {}", window.getValue().refused(), window.getKey(), e);
            }
        }
    }

    /** The pending window, once this container's offset past its end has come (dropped when over a minute old). */
    private void takeDue(Instant now, java.util.List<java.util.Map.Entry<Instant, RefusedHeartbeats.Window>> toWrite) {
        if (pending == null) {
            return;
        }
        Instant ended = pending.plus(window);
        if (now.isBefore(ended.plus(offset))) {
            return;
        }
        if (now.isBefore(ended.plus(STALE_COUNT))) {
            toWrite.add(java.util.Map.entry(pending, pendingCounts));
        }
        pending = null;
        pendingCounts = null;
    }
}

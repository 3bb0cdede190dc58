package backstop.core.session;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * Heartbeats the API refused as not coming from a real page (a made-up or malformed session id, a token that is
 * not the session's, a body no page sends), counted in short windows across every beacon container, with every
 * heartbeat request of those windows: the flood's own footprint. A flood that makes API Gateway answer 429 to real
 * beats must push more requests than the route's throttle lets through, so the throttle runs dry and most of what
 * does get through is refused here; the brake reads these counts to tell "the API is flooded" from "agents left"
 * ({@code HeartbeatOutageBrake}).
 * <p>
 * A window is a third of the heartbeat period (10 s with 30 s beats): a flood shows within two of them, well
 * before any real page has been silent for the stale limit.
 */
public interface RefusedHeartbeats {
    /** One window's counts: heartbeat requests refused, and heartbeat requests in all (refused ones included). */
    record Window(long refused, long requests) {
        public Window plus(Window other) {
            return new Window(refused + other.refused, requests + other.requests);
        }
    }

    /** Adds {@code counts} to the window starting at {@code windowStart}. */
    void add(Instant windowStart, Window counts);

    /** The counts of the windows that start at or after {@code from}, by window start. */
    NavigableMap<Instant, Window> since(Instant from);

    /** The window length for pages beating every {@code heartbeat}. */
    static Duration window(Duration heartbeat) {
        return heartbeat.dividedBy(3);
    }

    /** The start of the window of length {@code window} that holds {@code at}. */
    static Instant windowStart(Instant at, Duration window) {
        long length = window.toMillis();
        return Instant.ofEpochMilli(Math.floorDiv(at.toEpochMilli(), length) * length);
    }

    /** Nothing is counted (tests that do not exercise floods). */
    RefusedHeartbeats NONE = new RefusedHeartbeats() {
        @Override public void add(Instant windowStart, Window counts) { }
        @Override public NavigableMap<Instant, Window> since(Instant from) { return new TreeMap<>(); }
    };

    /** In memory (unit tests of the meter and the brake). */
    final class InMemory implements RefusedHeartbeats {
        private final NavigableMap<Instant, Window> counts = new TreeMap<>();

        @Override
        public synchronized void add(Instant windowStart, Window window) {
            counts.merge(windowStart, window, Window::plus);
        }

        @Override
        public synchronized NavigableMap<Instant, Window> since(Instant from) {
            return new TreeMap<>(counts.tailMap(from, true));
        }

        public synchronized Map<Instant, Window> all() {
            return new TreeMap<>(counts);
        }
    }
}

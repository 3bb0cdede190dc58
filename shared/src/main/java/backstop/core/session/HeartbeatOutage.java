package backstop.core.session;

import java.time.Instant;
import java.util.Optional;

/**
 * The reconciler's record of a suspected heartbeat outage, kept on the table so every run and container shares
 * it: when the brake engaged (heartbeats stopped for a large share of the open sessions at once) and, once it
 * released, when heartbeats came back. At most one of the two is present.
 */
public record HeartbeatOutage(Optional<Instant> engagedAt, Optional<Instant> recoveredAt) {
    public static final HeartbeatOutage NONE = new HeartbeatOutage(Optional.empty(), Optional.empty());

    public static HeartbeatOutage engaged(Instant at) {
        return new HeartbeatOutage(Optional.of(at), Optional.empty());
    }

    public static HeartbeatOutage recovered(Instant at) {
        return new HeartbeatOutage(Optional.empty(), Optional.of(at));
    }

    public boolean isEngaged() {
        return engagedAt.isPresent();
    }
}

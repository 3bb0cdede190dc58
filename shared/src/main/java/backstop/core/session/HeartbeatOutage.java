package backstop.core.session;

import java.time.Instant;
import java.util.Optional;

/**
 * The reconciler's record of a suspected heartbeat outage, kept on the table so every run and container shares
 * it: when the brake engaged (heartbeats stopped for a large share of the open sessions at once, or the heartbeat
 * route was flooded) and, once it released, when heartbeats came back; at most one of the two is present. Beside
 * them: when a flood was last seen ({@code lastFloodAt}, kept across outages: a hold's limit and its release count
 * from it), and whether the outage on record was a flood's alone ({@code floodOnly}: no silence the flood does not
 * explain), which decides how it is released.
 */
public record HeartbeatOutage(Optional<Instant> engagedAt, Optional<Instant> recoveredAt, Optional<Instant> lastFloodAt,
                              boolean floodOnly) {
    public static final HeartbeatOutage NONE = new HeartbeatOutage(Optional.empty(), Optional.empty(), Optional.empty(), false);

    public HeartbeatOutage(Optional<Instant> engagedAt, Optional<Instant> recoveredAt) {
        this(engagedAt, recoveredAt, Optional.empty(), false);
    }

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

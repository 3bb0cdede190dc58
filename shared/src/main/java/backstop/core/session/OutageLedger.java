package backstop.core.session;

import java.time.Instant;

/** Where the reconciler keeps its {@link HeartbeatOutage} record. */
public interface OutageLedger {
    /** The record as it stands (strongly consistent: another run may have just changed it). */
    HeartbeatOutage read();

    /** Records that an outage began at {@code at}; false when one is recorded already (its start is kept). */
    default boolean engage(Instant at) {
        return engage(at, false);
    }

    /** As above; {@code forFlood}: engaged for a flood alone (until {@link #silenceSeen} says otherwise). */
    boolean engage(Instant at, boolean forFlood);

    /** Records that the outage that began at {@code engagedAt} ended, heartbeats back at {@code recoveredAt}. */
    boolean recover(Instant engagedAt, Instant recoveredAt);

    /** Records that the heartbeat route was flooded at {@code at}, unless a later flood is on record already. */
    void floodSeen(Instant at);

    /** Records that the outage that began at {@code engagedAt} saw silence its flood does not explain. */
    void silenceSeen(Instant engagedAt);

    /** No outage is ever recorded (tests that do not exercise the brake). */
    OutageLedger NONE = new OutageLedger() {
        @Override public HeartbeatOutage read() { return HeartbeatOutage.NONE; }
        @Override public boolean engage(Instant at, boolean forFlood) { return true; }
        @Override public boolean recover(Instant engagedAt, Instant recoveredAt) { return true; }
        @Override public void floodSeen(Instant at) { }
        @Override public void silenceSeen(Instant engagedAt) { }
    };
}

package backstop.core.session;

import java.time.Instant;

/** Where the reconciler keeps its {@link HeartbeatOutage} record. */
public interface OutageLedger {
    /** The record as it stands (strongly consistent: another run may have just changed it). */
    HeartbeatOutage read();

    /** Records that an outage began at {@code at}; false when one is recorded already (its start is kept). */
    boolean engage(Instant at);

    /** Records that the outage that began at {@code engagedAt} ended, heartbeats back at {@code recoveredAt}. */
    boolean recover(Instant engagedAt, Instant recoveredAt);

    /** No outage is ever recorded (tests that do not exercise the brake). */
    OutageLedger NONE = new OutageLedger() {
        @Override public HeartbeatOutage read() { return HeartbeatOutage.NONE; }
        @Override public boolean engage(Instant at) { return true; }
        @Override public boolean recover(Instant engagedAt, Instant recoveredAt) { return true; }
    };
}

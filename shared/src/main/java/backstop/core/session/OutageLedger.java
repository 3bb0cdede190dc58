package backstop.core.session;

import backstop.core.events.EventOutbox;

import java.time.Instant;
import java.util.Optional;

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

    /**
     * As {@link #engage(Instant, boolean)}, with the outbox row of the outage's event written in the same
     * transaction (the transactional outbox: a run stopped before it publishes leaves the row for the relay).
     * Ledgers without an outbox ignore it.
     */
    default boolean engage(Instant at, boolean forFlood, Optional<EventOutbox.Kept> event) {
        return engage(at, forFlood);
    }

    /** As {@link #recover(Instant, Instant)}, with the outbox row of the outage's end in the same transaction. */
    default boolean recover(Instant engagedAt, Instant recoveredAt, Optional<EventOutbox.Kept> event) {
        return recover(engagedAt, recoveredAt);
    }

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

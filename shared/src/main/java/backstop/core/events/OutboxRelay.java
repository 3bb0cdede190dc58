package backstop.core.events;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.List;

/**
 * Sends the kept events again, oldest first, with their original time; forgets each one EventBridge takes. Only
 * rows older than {@link #RELAY_AFTER} are sent: a younger one may still be published and forgotten by the
 * invocation that wrote it. Publish, then delete: a process stopped between the two sends the event once more
 * next time, under the same {@code eventId}, which is what consumers deduplicate on.
 */
public final class OutboxRelay {
    private static final Logger LOG = LoggerFactory.getLogger(OutboxRelay.class);
    /** Per sweep: a backlog drains over a few sweeps and never holds one up. */
    static final int PER_RELAY = 50;
    /**
     * Longer than any writer lives (the beacon's 25 s timeout, the reconciler's 58 s, template.yaml), so the relay
     * never sends an event its writer is still about to publish.
     */
    public static final Duration RELAY_AFTER = Duration.ofMinutes(2);

    private final EventOutbox outbox;
    private final EventBridgePublisher eventBridge;
    private final Clock clock;

    public OutboxRelay(EventOutbox outbox, EventBridgePublisher eventBridge, Clock clock) {
        this.outbox = outbox;
        this.eventBridge = eventBridge;
        this.clock = clock;
    }

    /** How many kept events were published this time; a failure here never stops the sweep that calls it. */
    public int relay() {
        List<EventOutbox.Kept> kept;
        try {
            kept = outbox.oldest(PER_RELAY, clock.instant().minus(RELAY_AFTER));
        } catch (RuntimeException e) {
            LOG.warn("kept events not read ({}); tried again next sweep", e.toString());
            return 0;
        }
        int sent = 0;
        for (EventOutbox.Kept event : kept) {
            try {
                eventBridge.publishEntries(List.of(event.entry()));
                outbox.sent(event);
                sent++;
            } catch (RuntimeException e) {
                LOG.warn("kept event {} still not published ({}); tried again next sweep", event.key(), e.toString());
                break; // EventBridge is still down: the rest waits too
            }
        }
        if (sent > 0) {
            LOG.info("{} kept event(s) published", sent);
        }
        return sent;
    }
}

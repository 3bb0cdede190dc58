package backstop.core.events;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/** Sends the kept events again, oldest first, with their original time; forgets each one EventBridge takes. */
public final class OutboxRelay {
    private static final Logger LOG = LoggerFactory.getLogger(OutboxRelay.class);
    /** Per sweep: a backlog drains over a few sweeps and never holds one up. */
    static final int PER_RELAY = 50;

    private final EventOutbox outbox;
    private final EventBridgePublisher eventBridge;

    public OutboxRelay(EventOutbox outbox, EventBridgePublisher eventBridge) {
        this.outbox = outbox;
        this.eventBridge = eventBridge;
    }

    /** How many kept events were published this time; a failure here never stops the sweep that calls it. */
    public int relay() {
        List<EventOutbox.Kept> kept;
        try {
            kept = outbox.oldest(PER_RELAY);
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

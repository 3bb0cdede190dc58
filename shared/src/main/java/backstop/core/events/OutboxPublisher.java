package backstop.core.events;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * Publishes through EventBridge and keeps in the {@link EventOutbox} whatever EventBridge still refuses, for the
 * reconciler's {@link OutboxRelay} to send again. Only when the outbox cannot be written either does the
 * failure reach the caller (who logs it: the fact itself is already recorded on the table).
 */
public final class OutboxPublisher implements EventPublisher {
    private static final Logger LOG = LoggerFactory.getLogger(OutboxPublisher.class);
    private final EventBridgePublisher eventBridge;
    private final EventOutbox outbox;

    public OutboxPublisher(EventBridgePublisher eventBridge, EventOutbox outbox) {
        this.eventBridge = eventBridge;
        this.outbox = outbox;
    }

    @Override
    public void publish(List<? extends BackstopEvent> events) {
        try {
            eventBridge.publish(events);
        } catch (EventsNotPublished refused) {
            outbox.keep(refused.unsent());
            LOG.warn("{} event(s) refused by EventBridge ({}); kept for the reconciler to send again",
                    refused.unsent().size(), refused.getMessage());
        }
    }
}

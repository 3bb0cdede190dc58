package backstop.core.events;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequestEntry;

import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Publishes through EventBridge with the {@link EventOutbox} behind it. An event staged with its outcome already
 * has its row on the table: once EventBridge takes it the row is deleted, and a row whose event was refused (or
 * whose process stopped first) stays for the reconciler's {@link OutboxRelay}. Any other event EventBridge still
 * refuses is kept then. Only when the outbox cannot be written either does the failure reach the caller (who
 * logs it: the fact itself is already recorded on the table).
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

    @Override
    public StagedEvent stage(BackstopEvent event) {
        return new StagedEvent(event, Optional.of(outbox.row(eventBridge.entry(event))));
    }

    @Override
    public void publishStaged(List<StagedEvent> events) {
        List<EventOutbox.Kept> rows = events.stream().map(e -> e.row().orElseGet(() -> outbox.row(eventBridge.entry(e.event()))))
                .toList();
        Set<PutEventsRequestEntry> unsent = new HashSet<>();
        try {
            eventBridge.publishEntries(rows.stream().map(EventOutbox.Kept::entry).toList());
        } catch (EventsNotPublished refused) {
            unsent.addAll(refused.unsent());
            LOG.warn("{} event(s) refused by EventBridge ({}); their rows stay for the reconciler to send again",
                    refused.unsent().size(), refused.getMessage());
        }
        for (int i = 0; i < rows.size(); i++) {
            EventOutbox.Kept row = rows.get(i);
            boolean staged = events.get(i).row().isPresent();
            if (unsent.contains(row.entry()) && !staged) {
                outbox.keep(List.of(row.entry()));
            } else if (!unsent.contains(row.entry()) && staged) {
                forget(row);
            }
        }
    }

    private void forget(EventOutbox.Kept row) {
        try {
            outbox.sent(row);
        } catch (RuntimeException e) {
            // Published, row left: the relay sends it again later under the same eventId (a harmless double).
            LOG.warn("published event {} not forgotten ({}); the relay sends it again", row.key(), e.toString());
        }
    }
}

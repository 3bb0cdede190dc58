package backstop.core.events;

import software.amazon.awssdk.services.eventbridge.model.PutEventsRequestEntry;

import java.time.Instant;
import java.util.List;

/**
 * Events not yet known to be published, kept on the table until the reconciler's {@link OutboxRelay} sends them:
 * a transition's event, written with its outcome in one transaction and deleted once published (a process
 * stopped in between leaves it here), and any event EventBridge still refused after the publisher's retries.
 */
public interface EventOutbox {
    /** A kept PutEvents entry, by the key it is kept under. */
    record Kept(String key, PutEventsRequestEntry entry) {
    }

    void keep(List<PutEventsRequestEntry> entries);

    /** The row {@code entry} is kept under, to be written by the store with the outcome it reports (no I/O). */
    Kept row(PutEventsRequestEntry entry);

    /** The oldest kept entries whose event time is before {@code before}, at most {@code limit}. */
    List<Kept> oldest(int limit, Instant before);

    /** The entry was published: forget it. */
    void sent(Kept kept);

    EventOutbox NONE = new EventOutbox() {
        @Override public void keep(List<PutEventsRequestEntry> entries) { throw new EventsNotPublished(entries, "no outbox"); }
        @Override public Kept row(PutEventsRequestEntry entry) { throw new UnsupportedOperationException("no outbox"); }
        @Override public List<Kept> oldest(int limit, Instant before) { return List.of(); }
        @Override public void sent(Kept kept) { }
    };
}

package backstop.core.events;

import software.amazon.awssdk.services.eventbridge.model.PutEventsRequestEntry;

import java.util.List;

/**
 * Where events go that EventBridge still refused after the publisher's retries: kept (on the table) until the
 * reconciler sends them again, so an accepted transition never loses its event.
 */
public interface EventOutbox {
    /** A kept PutEvents entry, by the key it is kept under. */
    record Kept(String key, PutEventsRequestEntry entry) {
    }

    void keep(List<PutEventsRequestEntry> entries);

    /** The oldest kept entries, at most {@code limit}. */
    List<Kept> oldest(int limit);

    /** The entry was published: forget it. */
    void sent(Kept kept);

    EventOutbox NONE = new EventOutbox() {
        @Override public void keep(List<PutEventsRequestEntry> entries) { throw new EventsNotPublished(entries, "no outbox"); }
        @Override public List<Kept> oldest(int limit) { return List.of(); }
        @Override public void sent(Kept kept) { }
    };
}

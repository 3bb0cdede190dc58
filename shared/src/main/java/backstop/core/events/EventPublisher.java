package backstop.core.events;

import org.slf4j.LoggerFactory;

import java.util.List;

/** Publishes audit events; throws {@link EventsNotPublished} when some could not be delivered. */
public interface EventPublisher {
    void publish(List<? extends BackstopEvent> events);

    default void publish(BackstopEvent event) {
        publish(List.of(event));
    }

    /**
     * Publishes an event whose fact is already recorded in the table (the source of truth): a lost audit event is
     * logged as an error, never allowed to undo or fail what happened.
     */
    default void publishRecorded(BackstopEvent event) {
        try {
            publish(event);
        } catch (RuntimeException e) {
            LoggerFactory.getLogger(EventPublisher.class).error("event {} for session {} not published: {}",
                    event.detailType(), event.detail().get("sessionId"), e.toString());
        }
    }
}

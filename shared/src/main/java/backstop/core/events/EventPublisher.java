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
            notPublished(event, e);
        }
    }

    /** The event with the outbox row the store writes in the same transaction as its outcome (none here). */
    default StagedEvent stage(BackstopEvent event) {
        return StagedEvent.withoutRow(event);
    }

    /**
     * Publishes events whose rows were written with their outcomes, forgetting each row once its event is out; a
     * row whose event did not go out stays for the relay. Here (no outbox): published as they are.
     */
    default void publishStaged(List<StagedEvent> events) {
        publish(events.stream().map(StagedEvent::event).toList());
    }

    /** As {@link #publishStaged(List)}, for one event whose outcome is written: a failure is logged, never thrown. */
    default void publishStagedRecorded(StagedEvent staged) {
        try {
            publishStaged(List.of(staged));
        } catch (RuntimeException e) {
            notPublished(staged.event(), e);
        }
    }

    private static void notPublished(BackstopEvent event, RuntimeException e) {
        LoggerFactory.getLogger(EventPublisher.class).error("event {} for session {} not published: {}",
                event.detailType(), event.detail().get("sessionId"), e.toString());
    }
}

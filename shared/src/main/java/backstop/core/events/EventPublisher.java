package backstop.core.events;

import java.util.List;

/** Publishes audit events; throws {@link EventsNotPublished} when some could not be delivered. */
public interface EventPublisher {
    void publish(List<? extends BackstopEvent> events);

    default void publish(BackstopEvent event) {
        publish(List.of(event));
    }
}

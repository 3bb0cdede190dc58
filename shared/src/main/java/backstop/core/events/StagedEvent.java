package backstop.core.events;

import java.util.Optional;

/**
 * An event about to be recorded with the outcome it reports (the transactional outbox): {@code row} is what the
 * store writes in the same transaction as the outcome, so a process stopped before the publish leaves the row for
 * the {@link OutboxRelay}. Empty for a publisher without an outbox (tests' fakes): the event is then only published.
 */
public record StagedEvent(BackstopEvent event, Optional<EventOutbox.Kept> row) {
    public static StagedEvent withoutRow(BackstopEvent event) {
        return new StagedEvent(event, Optional.empty());
    }
}

package backstop.core.events;

import backstop.core.json.Json;
import software.amazon.awssdk.services.eventbridge.EventBridgeClient;
import software.amazon.awssdk.services.eventbridge.model.PutEventsRequestEntry;
import software.amazon.awssdk.services.eventbridge.model.PutEventsResponse;
import software.amazon.awssdk.services.eventbridge.model.PutEventsResultEntry;

import java.time.Clock;
import java.util.ArrayList;
import software.amazon.awssdk.core.exception.SdkException;
import java.util.List;

/**
 * PutEvents in batches of at most 10 (the API's limit), checking {@code FailedEntryCount}: entries EventBridge
 * refused are sent again (a few times, with a short pause) rather than dropped.
 */
public final class EventBridgePublisher implements EventPublisher {
    static final int MAX_ENTRIES = 10;
    static final int MAX_TRIES = 3;

    private final EventBridgeClient eventBridge;
    private final String busName;
    private final Clock clock;

    public EventBridgePublisher(EventBridgeClient eventBridge, String busName, Clock clock) {
        this.eventBridge = eventBridge;
        this.busName = busName;
        this.clock = clock;
    }

    @Override
    public void publish(List<? extends BackstopEvent> events) {
        publishEntries(events.stream().map(this::entry).toList());
    }

    /**
     * Sends entries as they are (a kept event keeps its first time); throws {@link EventsNotPublished} with every
     * entry that did not get through, including those of batches after a failed one.
     */
    public void publishEntries(List<PutEventsRequestEntry> entries) {
        List<PutEventsRequestEntry> unsent = new ArrayList<>();
        String error = null;
        for (int from = 0; from < entries.size(); from += MAX_ENTRIES) {
            List<PutEventsRequestEntry> batch = entries.subList(from, Math.min(entries.size(), from + MAX_ENTRIES));
            try {
                send(batch);
            } catch (EventsNotPublished refused) {
                unsent.addAll(refused.unsent());
                error = error == null ? refused.firstError() : error;
            } catch (SdkException unreachable) {
                unsent.addAll(batch);
                error = error == null ? unreachable.getClass().getSimpleName() : error;
            }
        }
        if (!unsent.isEmpty()) {
            throw new EventsNotPublished(unsent, error);
        }
    }

    private void send(List<PutEventsRequestEntry> batch) {
        List<PutEventsRequestEntry> pending = batch;
        String firstError = null;
        for (int tryNo = 0; tryNo < MAX_TRIES && !pending.isEmpty(); tryNo++) {
            if (tryNo > 0) {
                pause(tryNo);
            }
            List<PutEventsRequestEntry> sending = pending;
            PutEventsResponse response = eventBridge.putEvents(r -> r.entries(sending));
            if (response.failedEntryCount() == null || response.failedEntryCount() == 0) {
                return;
            }
            // Result entries line up with request entries; a failed one carries an error code.
            List<PutEventsRequestEntry> failed = new ArrayList<>();
            for (int i = 0; i < sending.size(); i++) {
                PutEventsResultEntry result = response.entries().get(i);
                if (result.errorCode() != null) {
                    failed.add(sending.get(i));
                    firstError = firstError == null ? result.errorCode() : firstError;
                }
            }
            pending = failed;
        }
        if (!pending.isEmpty()) {
            throw new EventsNotPublished(pending, firstError);
        }
    }

    /** The PutEvents entry of one event (the snapshot priming builds one without sending it). */
    public PutEventsRequestEntry entry(BackstopEvent event) {
        return PutEventsRequestEntry.builder()
                .eventBusName(busName)
                .source(BackstopEvent.SOURCE)
                .detailType(event.detailType())
                .detail(Json.write(event.detail()))
                .time(clock.instant())
                .build();
    }

    private static void pause(int tryNo) {
        try {
            Thread.sleep(50L * tryNo);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while publishing events", e);
        }
    }
}

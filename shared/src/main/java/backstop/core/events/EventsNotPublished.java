package backstop.core.events;

import software.amazon.awssdk.services.eventbridge.model.PutEventsRequestEntry;

import java.util.List;

/** Some events were still refused by EventBridge after the retries. */
public final class EventsNotPublished extends RuntimeException {
    private final transient List<PutEventsRequestEntry> unsent;
    private final String firstError;

    public EventsNotPublished(List<PutEventsRequestEntry> unsent, String firstErrorCode) {
        super(unsent.size() + " event(s) not published; first error " + firstErrorCode, null, false, false);
        this.unsent = List.copyOf(unsent);
        this.firstError = firstErrorCode;
    }

    /** EventBridge's error code for the first entry it refused (or the exception's name when it was not reached). */
    public String firstError() {
        return firstError;
    }

    public int failed() {
        return unsent.size();
    }

    /** The entries EventBridge did not take, as they were sent. */
    public List<PutEventsRequestEntry> unsent() {
        return unsent;
    }
}

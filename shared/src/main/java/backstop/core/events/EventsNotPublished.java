package backstop.core.events;

/** Some events were still refused by EventBridge after the retries. */
public final class EventsNotPublished extends RuntimeException {
    private final int failed;

    public EventsNotPublished(int failed, String firstErrorCode) {
        super(failed + " event(s) not published; first error " + firstErrorCode, null, false, false);
        this.failed = failed;
    }

    public int failed() {
        return failed;
    }
}

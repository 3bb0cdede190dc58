package backstop.core.transition;

import backstop.core.WireValue;

/** What closing a session did about the agent's status, as the close route reports it. */
public enum OfflineOutcome implements WireValue {
    /** Connect set the agent Offline (or queued it as their next status during a contact). */
    DONE("done"),
    /** Connect failed or was not reached yet: the reconciler retries. */
    PENDING("pending"),
    /** Another tab of the agent is still open, or the agent was already Offline. */
    NOT_NEEDED("not-needed"),
    /** The agent's routing profile is exempt (supervisors, other desktops). */
    EXEMPT("exempt"),
    /** Connect refused in a way retrying cannot fix (or every retry failed): on-call is alerted. */
    FAILED("failed");

    private final String value;

    OfflineOutcome(String value) {
        this.value = value;
    }

    @Override
    public String value() {
        return value;
    }

    public static OfflineOutcome parse(String value) {
        return WireValue.find(OfflineOutcome.class, value).orElseThrow(() -> new IllegalArgumentException("unknown outcome " + value));
    }
}

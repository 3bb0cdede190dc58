package backstop.core.connect;

/**
 * A Connect call that did not succeed, classified: {@code retryable} failures (throttling, 5xx, network) are
 * retried later; the others (unknown user, access denied, bad parameter) will not get better by waiting.
 * {@link #code()} is what is stored and reported (e.g. {@code ThrottlingException (429)}); never the SDK's message.
 */
public final class ConnectFailure extends Exception {
    /** The code of a wait for the pacer's turn that was interrupted: no call went out. */
    public static final String INTERRUPTED = "Interrupted";
    /** The code of a call that did not go out because its turn in the shared budget would come too late. */
    public static final String NO_TURN = "NoTurn";
    private final String code;
    private final boolean retryable;
    private final boolean throttled;

    public ConnectFailure(String code, boolean retryable, boolean throttled, Throwable cause) {
        super(code, cause, false, false);
        this.code = code;
        this.retryable = retryable;
        this.throttled = throttled;
    }

    public String code() {
        return code;
    }

    public boolean retryable() {
        return retryable;
    }

    public boolean throttled() {
        return throttled;
    }

    /**
     * The call may have done its work though it failed: a 5xx, a time-out or a lost connection can come after
     * Connect acted. A throttle or a 4xx means it did not, and so does an interrupt while waiting for the turn, or no turn.
     */
    public boolean mayHaveLanded() {
        return retryable && !throttled && !INTERRUPTED.equals(code) && !NO_TURN.equals(code);
    }
}

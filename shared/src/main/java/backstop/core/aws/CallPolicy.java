package backstop.core.aws;

import java.time.Duration;

/**
 * How one SDK client tries a call: at most {@code maxAttempts} attempts (standard retry mode, jittered backoff),
 * each cut off after {@code attemptTimeout}, the whole call after {@code apiCallTimeout}. Pinned in code so that
 * nothing in the environment (AWS_MAX_ATTEMPTS, AWS_RETRY_MODE, a profile's retry settings) changes how long a
 * close blocks or how many requests a paced reconciler really sends.
 */
public record CallPolicy(int maxAttempts, Duration attemptTimeout, Duration apiCallTimeout) {
    public CallPolicy {
        if (maxAttempts < 1 || attemptTimeout.isNegative() || apiCallTimeout.compareTo(attemptTimeout) < 0) {
            throw new IllegalArgumentException("bad call policy: " + maxAttempts + " attempts, " + attemptTimeout + "/" + apiCallTimeout);
        }
    }

    /** The same attempts with longer timeouts (emulators that serve one request at a time); never shorter ones. */
    public CallPolicy atLeast(Duration attempt, Duration apiCall) {
        return new CallPolicy(maxAttempts, max(attemptTimeout, attempt), max(apiCallTimeout, apiCall));
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) >= 0 ? a : b;
    }
}

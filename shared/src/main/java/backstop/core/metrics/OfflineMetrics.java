package backstop.core.metrics;

import backstop.core.transition.OfflineTransitions;

/**
 * What both paths to Offline count (the beacon's close and the reconciler's retries), under the same metric
 * names, so the alarms see failures and throttles from either. Written once per invocation.
 */
public interface OfflineMetrics {
    void transitionDone(boolean deferred);

    void transitionNotNeeded();

    void transitionFailed();

    void transitionRetryScheduled();

    void connectThrottled();

    /** Writes what was counted during this invocation. */
    void flush();

    /** How long the invocation's close took, for a close that went to Connect (the beacon's dashboard latency). */
    default void closeTook(long millis) {
    }

    /** Counts one attempt's result ({@code deferred}: known to be applied as next status). */
    default void count(OfflineTransitions.Attempt attempt, boolean deferred) {
        if (attempt.throttled()) {
            connectThrottled();
        }
        count(attempt.result(), deferred);
    }

    default void count(OfflineTransitions.Result result, boolean deferred) {
        switch (result) {
            case DONE -> transitionDone(deferred);
            case NOT_NEEDED, EXEMPT -> transitionNotNeeded();
            case FAILED -> transitionFailed();
            case RETRY_SCHEDULED -> transitionRetryScheduled();
            case STILL_FAILED, CLAIM_LOST -> { } // a slow-lane failure was counted when it first failed (the alarm)
        }
    }

    OfflineMetrics NONE = new OfflineMetrics() {
        @Override public void transitionDone(boolean deferred) { }
        @Override public void transitionNotNeeded() { }
        @Override public void transitionFailed() { }
        @Override public void transitionRetryScheduled() { }
        @Override public void connectThrottled() { }
        @Override public void flush() { }
    };
}

package backstop.reconciler;

import backstop.core.metrics.OfflineMetrics;

/** What the reconciler counts; {@link PowertoolsReconcilerMetrics} publishes it as CloudWatch EMF. */
public interface ReconcilerMetrics extends OfflineMetrics {
    void staleSessionsClosed(int count);

    void pendingBacklog(long count);

    /** A stale sweep or a due pass skipped because the index it reads is still backfilling after a deploy. */
    void sweepSkippedIndexBackfilling();

    /** Stale sessions a sweep held because a heartbeat outage is suspected (HeartbeatOutageBrake). */
    void sessionsHeld(int count);

    ReconcilerMetrics NONE = new ReconcilerMetrics() {
        @Override public void staleSessionsClosed(int count) { }
        @Override public void transitionDone(boolean deferred) { }
        @Override public void transitionNotNeeded() { }
        @Override public void transitionFailed() { }
        @Override public void transitionRetryScheduled() { }
        @Override public void connectThrottled() { }
        @Override public void pendingBacklog(long count) { }
        @Override public void sweepSkippedIndexBackfilling() { }
        @Override public void sessionsHeld(int count) { }
        @Override public void flush() { }
    };
}

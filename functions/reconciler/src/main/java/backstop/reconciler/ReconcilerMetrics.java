package backstop.reconciler;

/** What the reconciler counts; {@link PowertoolsReconcilerMetrics} publishes it as CloudWatch EMF. */
public interface ReconcilerMetrics {
    void staleSessionsClosed(int count);

    void transitionDone(boolean deferred);

    void transitionNotNeeded();

    void transitionFailed();

    void transitionRetryScheduled();

    void connectThrottled();

    void pendingBacklog(long count);

    /** Writes what was counted during this invocation. */
    void flush();

    ReconcilerMetrics NONE = new ReconcilerMetrics() {
        @Override public void staleSessionsClosed(int count) { }
        @Override public void transitionDone(boolean deferred) { }
        @Override public void transitionNotNeeded() { }
        @Override public void transitionFailed() { }
        @Override public void transitionRetryScheduled() { }
        @Override public void connectThrottled() { }
        @Override public void pendingBacklog(long count) { }
        @Override public void flush() { }
    };
}

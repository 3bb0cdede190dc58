package backstop.reconciler;

import software.amazon.lambda.powertools.metrics.Metrics;
import software.amazon.lambda.powertools.metrics.MetricsFactory;
import software.amazon.lambda.powertools.metrics.model.DimensionSet;
import software.amazon.lambda.powertools.metrics.model.MetricUnit;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts during an invocation, then one EMF document per invocation (namespace {@code ccp-backstop}, service
 * {@code reconciler}). Metric names are the ones the template's alarms and dashboard use.
 */
public final class PowertoolsReconcilerMetrics implements ReconcilerMetrics {
    public static final String NAMESPACE = "ccp-backstop";
    /** Every metric this class writes; the template test checks the alarms name only these. */
    public static final java.util.List<String> METRIC_NAMES = java.util.List.of("StaleSessionsClosed",
            "OfflineTransitionsDone", "OfflineTransitionsDeferred", "OfflineTransitionsNotNeeded",
            "OfflineTransitionsFailed", "OfflineTransitionRetries", "ConnectThrottles", "PendingBacklog",
            "SweepsSkippedIndexBackfilling", "SessionsHeld");
    private final Metrics metrics = MetricsFactory.getMetricsInstance();
    private final AtomicInteger staleClosed = new AtomicInteger();
    private final AtomicInteger done = new AtomicInteger();
    private final AtomicInteger deferred = new AtomicInteger();
    private final AtomicInteger notNeeded = new AtomicInteger();
    private final AtomicInteger failed = new AtomicInteger();
    private final AtomicInteger retries = new AtomicInteger();
    private final AtomicInteger throttles = new AtomicInteger();
    private final AtomicLong backlog = new AtomicLong();
    private final AtomicInteger skipped = new AtomicInteger();
    private final AtomicInteger held = new AtomicInteger();

    public PowertoolsReconcilerMetrics() {
        metrics.setNamespace(NAMESPACE);
        // One fixed dimension set, so the template's alarms can name it exactly (EMF would otherwise add the
        // log group and function name as dimensions).
        metrics.setDefaultDimensions(DimensionSet.of("service", "reconciler"));
    }

    @Override public void staleSessionsClosed(int count) { staleClosed.addAndGet(count); }
    @Override public void transitionDone(boolean wasDeferred) { done.incrementAndGet(); if (wasDeferred) { deferred.incrementAndGet(); } }
    @Override public void transitionNotNeeded() { notNeeded.incrementAndGet(); }
    @Override public void transitionFailed() { failed.incrementAndGet(); }
    @Override public void transitionRetryScheduled() { retries.incrementAndGet(); }
    @Override public void connectThrottled() { throttles.incrementAndGet(); }
    @Override public void pendingBacklog(long count) { backlog.accumulateAndGet(count, Math::max); }
    @Override public void sweepSkippedIndexBackfilling() { skipped.incrementAndGet(); }
    @Override public void sessionsHeld(int count) { held.accumulateAndGet(count, Math::max); }

    @Override
    public void flush() {
        metrics.addMetric("StaleSessionsClosed", staleClosed.getAndSet(0), MetricUnit.COUNT);
        metrics.addMetric("OfflineTransitionsDone", done.getAndSet(0), MetricUnit.COUNT);
        metrics.addMetric("OfflineTransitionsDeferred", deferred.getAndSet(0), MetricUnit.COUNT);
        metrics.addMetric("OfflineTransitionsNotNeeded", notNeeded.getAndSet(0), MetricUnit.COUNT);
        metrics.addMetric("OfflineTransitionsFailed", failed.getAndSet(0), MetricUnit.COUNT);
        metrics.addMetric("OfflineTransitionRetries", retries.getAndSet(0), MetricUnit.COUNT);
        metrics.addMetric("ConnectThrottles", throttles.getAndSet(0), MetricUnit.COUNT);
        metrics.addMetric("PendingBacklog", backlog.getAndSet(0), MetricUnit.COUNT);
        metrics.addMetric("SweepsSkippedIndexBackfilling", skipped.getAndSet(0), MetricUnit.COUNT);
        metrics.addMetric("SessionsHeld", held.getAndSet(0), MetricUnit.COUNT);
        metrics.flush();
    }
}

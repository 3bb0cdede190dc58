package backstop.beacon;

import backstop.core.metrics.OfflineMetrics;
import software.amazon.lambda.powertools.metrics.Metrics;
import software.amazon.lambda.powertools.metrics.MetricsFactory;
import software.amazon.lambda.powertools.metrics.model.DimensionSet;
import software.amazon.lambda.powertools.metrics.model.MetricUnit;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The close path's counts as CloudWatch EMF (namespace {@code ccp-backstop}, dimension {@code service=beacon}),
 * under the reconciler's metric names, so TransitionsFailedAlarm and ConnectThrottlesAlarm see both paths. Only an
 * invocation that counted something writes a document: heartbeats and registers add no log line. Such a close
 * also writes {@code CloseDuration}, the dashboard's tab-close-to-Offline latency (one custom metric, where the
 * API's per-route metrics were eighteen).
 */
public final class BeaconMetrics implements OfflineMetrics {
    /** Every metric this class writes; the template test checks the alarms name only these and the reconciler's. */
    public static final List<String> METRIC_NAMES = List.of("OfflineTransitionsDone", "OfflineTransitionsNotNeeded",
            "OfflineTransitionsFailed", "OfflineTransitionRetries", "ConnectThrottles", "CloseDuration");
    private final Metrics metrics = MetricsFactory.getMetricsInstance();
    private final Map<String, AtomicInteger> counted = new ConcurrentHashMap<>();
    private volatile long closeMillis = -1;

    public BeaconMetrics() {
        metrics.setNamespace("ccp-backstop");
        metrics.setDefaultDimensions(DimensionSet.of("service", "beacon"));
    }

    private void add(String name) {
        counted.computeIfAbsent(name, k -> new AtomicInteger()).incrementAndGet();
    }

    @Override public void transitionDone(boolean deferred) { add("OfflineTransitionsDone"); }
    @Override public void transitionNotNeeded() { add("OfflineTransitionsNotNeeded"); }
    @Override public void transitionFailed() { add("OfflineTransitionsFailed"); }
    @Override public void transitionRetryScheduled() { add("OfflineTransitionRetries"); }
    @Override public void connectThrottled() { add("ConnectThrottles"); }

    @Override public void closeTook(long millis) { closeMillis = millis; }

    @Override
    public void flush() {
        long took = closeMillis;
        closeMillis = -1;
        if (counted.isEmpty()) {
            return;
        }
        counted.forEach((name, count) -> metrics.addMetric(name, count.get(), MetricUnit.COUNT));
        if (took >= 0) {
            metrics.addMetric("CloseDuration", took, MetricUnit.MILLISECONDS);
        }
        counted.clear();
        metrics.flush();
    }
}

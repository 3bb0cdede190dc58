package backstop.local.template;

import backstop.local.aws.TemplateResources;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The custom metrics the stack writes, each as CloudWatch bills and charts it (namespace, name and dimension set):
 * the beacon's and the reconciler's EMF metrics under their {@code service} dimension, and the template's log
 * metric filters, which have no dimension. What the cost benchmark prices and the docs' names are held to.
 */
public final class StackMetrics {
    public static final String NAMESPACE = "ccp-backstop";

    private StackMetrics() {
    }

    /** One metric: {@code service} is null for a metric filter's. */
    public record Metric(String name, String service) {
    }

    @SuppressWarnings("unchecked")
    public static Set<Metric> written(TemplateResources template) {
        Set<Metric> metrics = new LinkedHashSet<>();
        backstop.beacon.BeaconMetrics.METRIC_NAMES.forEach(name -> metrics.add(new Metric(name, "beacon")));
        backstop.reconciler.PowertoolsReconcilerMetrics.METRIC_NAMES.forEach(name -> metrics.add(new Metric(name, "reconciler")));
        for (Object resource : template.resources().values()) {
            Map<String, Object> r = (Map<String, Object>) resource;
            if ("AWS::Logs::MetricFilter".equals(r.get("Type"))) {
                for (Map<String, Object> t : (List<Map<String, Object>>) ((Map<String, Object>) r.get("Properties")).get("MetricTransformations")) {
                    if (NAMESPACE.equals(t.get("MetricNamespace"))) {
                        metrics.add(new Metric((String) t.get("MetricName"), null));
                    }
                }
            }
        }
        return metrics;
    }
}

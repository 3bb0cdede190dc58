package backstop.local.bench;

import backstop.core.aws.AwsClients;
import backstop.core.aws.ClientPolicies;
import backstop.core.config.BackstopConfig;
import backstop.reconciler.PowertoolsReconcilerMetrics;
import backstop.reconciler.ReconcilerHandler;
import backstop.reconciler.ReconcilerWiring;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;

/**
 * The child JVM of {@link ScaleMemoryBenchmark}: the reconciler as a Lambda container builds it (configuration from
 * the environment, the production wiring and metrics), its clients' time limits raised as the local stack raises
 * them (moto, one Python process on a busy machine, answers a query of tens of thousands of index entries slower
 * than the pinned 2.5 s DynamoDB answers it in); one scheduled invocation, then its peak resident memory (what
 * Lambda reports as Max Memory Used) and the heap's peak.
 */
public final class ScaleMemoryProbe {
    private ScaleMemoryProbe() {
    }

    public static void main(String[] args) throws Exception {
        int remainingMillis = Integer.parseInt(args[0]);
        BackstopConfig config = BackstopConfig.fromEnvironment();
        AwsClients clients = AwsClients.create(AwsClients.Target.fromLambdaEnvironment(config),
                ClientPolicies.RECONCILER.atLeast(Duration.ofSeconds(60), Duration.ofSeconds(120)));
        Clock clock = Clock.systemUTC();
        ReconcilerHandler handler = new ReconcilerHandler(ReconcilerWiring.reconciler(config, clients, clock,
                ReconcilerWiring.wallClockSleeper(clock), new PowertoolsReconcilerMetrics()), clock);
        Map<String, Object> result = handler.handleRequest(Map.of("source", "ccp-backstop.schedule"),
                new ColdStartProbe.ProbeContext("ReconcilerFunction", remainingMillis));
        ProbeMemory.report(result);
    }
}

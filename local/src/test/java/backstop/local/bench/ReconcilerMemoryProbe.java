package backstop.local.bench;

import backstop.reconciler.ReconcilerHandler;

import java.util.Map;

/**
 * The child JVM of {@link ReconcilerMemoryBenchmark}: the reconciler as a Lambda container runs it (production
 * constructor, configuration and clients from the environment), one scheduled invocation with the remaining time
 * given, then what the process used: its peak resident memory (what Lambda reports as Max Memory Used) and the
 * heap's peak.
 */
public final class ReconcilerMemoryProbe {
    private ReconcilerMemoryProbe() {
    }

    public static void main(String[] args) throws Exception {
        int remainingMillis = Integer.parseInt(args[0]);
        ReconcilerHandler handler = new ReconcilerHandler();
        Map<String, Object> result = handler.handleRequest(Map.of("source", "ccp-backstop.schedule"),
                new ColdStartProbe.ProbeContext("ReconcilerFunction", remainingMillis));
        ProbeMemory.report(result);
    }
}

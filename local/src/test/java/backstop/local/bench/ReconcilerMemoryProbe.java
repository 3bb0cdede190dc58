package backstop.local.bench;

import backstop.reconciler.ReconcilerHandler;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
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
        long heapPeak = ManagementFactory.getMemoryPoolMXBeans().stream().filter(pool -> pool.getType() == MemoryType.HEAP)
                .mapToLong(pool -> pool.getPeakUsage().getUsed()).sum();
        String status = Files.readString(Path.of("/proc/self/status"));
        long peakKb = status.lines().filter(line -> line.startsWith("VmHWM:")).mapToLong(line -> Long.parseLong(line.replaceAll("\\D", "")))
                .findFirst().orElse(-1);
        System.out.println("RESULT " + result);
        System.out.println("MEMORY " + peakKb / 1024 + " " + heapPeak / (1024 * 1024));
        System.out.flush();
        System.exit(0);
    }
}

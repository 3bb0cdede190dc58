package backstop.local.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A memory probe's last words (JDK classes only: it runs in the child JVM beside reconciler.jar): the invocation's
 * result and what the process used, its peak RSS (Lambda's Max Memory Used) and heap peak in MB, as
 * {@link ReconcilerMemoryRun#measure} reads them; then the process exits.
 */
final class ProbeMemory {
    private ProbeMemory() {
    }

    static void report(Map<String, Object> result) throws IOException {
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

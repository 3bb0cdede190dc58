package backstop.local.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Not part of the test run: how much memory the reconciler uses, to size its MemorySize from measurement. A
 * fresh JVM (Lambda's Java flags, the machine's RAM capped at the size under test with {@code -XX:MaxRAM}) runs
 * reconciler.jar's production handler for one scheduled invocation against a table with {@code live} live
 * sessions (every one read: the container's first sweep) and {@code stale} crashed ones (closed, set Offline at
 * 100/s), and prints its peak resident memory (Lambda's Max Memory Used) and heap peak.
 * <pre>local/bin/bench memory   (BENCH_LIVE=10000 BENCH_STALE=500 BENCH_MEMORY=256,512,1024)</pre>
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class ReconcilerMemoryBenchmark {

    @Test
    void measure() throws Exception {
        int live = Integer.parseInt(System.getProperty("live", "10000").split(",")[0]);
        int stale = Integer.parseInt(System.getProperty("stale", "500").split(",")[0]);
        List<Integer> sizes = java.util.Arrays.stream(System.getProperty("memory", "256,512,1024").split(",")).map(Integer::parseInt).toList();
        String classpath = ReconcilerMemoryRun.classpath("ReconcilerMemoryProbe");
        for (int mb : sizes) {
            ReconcilerMemoryRun.Figures figures = ReconcilerMemoryRun.measure(live, stale, "mem-",
                    List.of("-XX:+TieredCompilation", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-XX:MaxRAM=" + mb + "m"),
                    classpath, ReconcilerMemoryProbe.class, Path.of("target", "bench", "reconciler-memory-" + mb + ".err"),
                    Duration.ofSeconds(120));
            System.out.printf("reconciler-memory MaxRAM %d MB, %d live + %d stale sessions: peak RSS %s MB, heap peak %s MB, run %s, %.1f s%n",
                    mb, live, stale, figures.peakRssMb(), figures.heapPeakMb(), figures.result(), figures.seconds());
        }
    }
}

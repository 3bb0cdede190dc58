package backstop.local.bench;

import backstop.local.aws.TemplateResources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;

/**
 * Not part of the test run: the reconciler's memory against the number of open sessions, as Lambda runs it. For
 * each size in {@code open} (10,000, 30,000, 100,000) a fresh JVM runs reconciler.jar's production handler for one
 * scheduled invocation (a new container: its first sweep lists and reads every open session) against a table of
 * that many live sessions and {@code stale} (100) crashed ones, with Lambda's Java flags at the template's
 * MemorySize: -XX:MaxHeapSize 85 % of it, -XX:+UseSerialGC, -XX:+TieredCompilation -XX:TieredStopAtLevel=1, the
 * machine's RAM capped at MemorySize. Printed: peak RSS (Lambda's Max Memory Used), heap peak, the first sweep's
 * time, and what seeding cost moto.
 * <pre>local/bin/bench scale   (BENCH_OPEN=10000,30000,100000)</pre>
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class ScaleMemoryBenchmark {

    @Test
    void measure() throws Exception {
        List<Integer> sizes = java.util.Arrays.stream(System.getProperty("open", "10000,30000,100000").split(",")).map(Integer::parseInt).toList();
        int stale = Integer.getInteger("stale", 100);
        Object memory = TemplateResources.load(TemplateResources.findTemplate()).properties("ReconcilerFunction").get("MemorySize");
        int mb = Integer.parseInt(String.valueOf(memory));
        int heap = (int) (mb * 0.85);
        String classpath = ReconcilerMemoryRun.classpath("ScaleMemoryProbe");
        for (int live : sizes) {
            Path errors = Path.of("target", "bench", "scale-memory-" + live + ".err");
            ReconcilerMemoryRun.Figures figures = ReconcilerMemoryRun.measure(live, stale, "scale-",
                    List.of("-XX:+TieredCompilation", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-XX:MaxHeapSize=" + heap + "m",
                            "-XX:MaxRAM=" + mb + "m"), classpath, ScaleMemoryProbe.class, errors, Duration.ofSeconds(600));
            String line = String.format("scale-memory MemorySize %d MB (MaxHeapSize %d MB), %,d open + %d crashed sessions, first sweep:"
                            + " peak RSS %s MB, heap peak %s MB, run %s, %.1f s (seeding moto %.0f s)%n",
                    mb, heap, live, stale, figures.peakRssMb(), figures.heapPeakMb(), figures.result(), figures.seconds(),
                    figures.seedSeconds());
            System.out.print(line);
            // Each size as it ends (the largest take many minutes): target/bench/scale-memory.txt.
            Files.writeString(errors.resolveSibling("scale-memory.txt"), line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
    }
}
